package layout

// AnnotationTarOf marks a layer that is an uncompressed tar holding exactly
// one regular file: its value is the digest of that file's bytes — the
// digest of the raw layer that carries the same file, if the layout holds
// one. pack writes it on the layers of the image-volume form (--preset
// modelcar, --image-volume); export uses it to carry such a layer as a
// recipe over its raw twin, extract and inspect to name the file.
const AnnotationTarOf = "io.github.oci-pack.tar-of"
