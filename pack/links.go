package pack

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// warnLinksOutside warns, once per directory layer, about symlinks whose
// target leads outside the directory: the tar stores the link, not the
// file, so the artifact does not hold what the link points to and extract
// refuses the link. A Hugging Face cache snapshot is such a directory
// (every file links to ../../blobs/<hash>); the modelpack preset follows
// those links and packs the files.
func warnLinksOutside(p *layerPlan, warn func(string)) {
	var outside []string
	for _, e := range p.entries {
		if e.info.Mode()&os.ModeSymlink == 0 {
			continue
		}
		target, err := os.Readlink(e.path)
		if err != nil {
			continue // the tar writer reports it
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(e.name, p.title), "/")
		t := filepath.ToSlash(target)
		if path.IsAbs(t) || filepath.IsAbs(target) || !filepath.IsLocal(filepath.FromSlash(path.Join(path.Dir(rel), t))) {
			outside = append(outside, fmt.Sprintf("%s -> %s", e.name, target))
		}
	}
	if len(outside) == 0 {
		return
	}
	hf := ""
	if strings.Contains(outside[0], "blobs/") {
		hf = " (a Hugging Face snapshot?)"
	}
	warn(fmt.Sprintf("%s: %d symlink(s) lead outside the directory%s, e.g. %s: the artifact stores the links, not the files, and extract will refuse them; the modelpack preset packs the files they point to", p.title, len(outside), hf, outside[0]))
}
