#!/usr/bin/env python3
"""scripts/interop/oci.py — small, dependency-free helpers for scripts/interop.sh.

Subcommands (all print to stdout; errors go to stderr with exit 1):
  tree [--no-mode] DIR        one line per entry below DIR, sorted by path:
                              "path type mode sha256|target" (type f/d/l);
                              --no-mode leaves modes out (raw-file layers carry
                              no mode, so tools write their own default).
  png FILE                    write a valid 1x1 PNG.
  model DIR                   write a tiny model-like tree: bf16-like
                              *.safetensors shards, config.json,
                              tokenizer.json, README.md.
  layout-digest LAYOUT [TAG]  the manifest digest TAG names in LAYOUT's
                              index.json; without TAG, the only entry.
  reg-digest ADDR REPO REF    GET the manifest over plain HTTP; print
                              sha256 of its bytes after checking the
                              registry's Docker-Content-Digest agrees.
  reg-manifest ADDR REPO REF  the same, printing the manifest's bytes.
  blobs < MANIFEST            "digest size" of config and layers.
  crane-full-validate < MANIFEST
                              exit 0 iff `crane validate` can check this
                              manifest fully; else print why and exit 1
                              (crane gunzips every image-layer media type and
                              takes diffIDs from an image config).
"""
import hashlib
import json
import os
import random
import stat
import struct
import sys
import urllib.request

# go-containerregistry types.MediaType.IsLayer() / IsConfig().
CRANE_LAYER_TYPES = {
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
}
CRANE_CONFIG_TYPES = {
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
}
ACCEPT = ",".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def die(msg):
    print(f"oci.py: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cmd_tree(args):
    with_mode = True
    if args and args[0] == "--no-mode":
        with_mode = False
        args = args[1:]
    if len(args) != 1:
        die("usage: tree [--no-mode] DIR")
    root = args[0]
    if not os.path.isdir(root):
        die(f"tree: {root} is not a directory")
    lines = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = oct(stat.S_IMODE(st.st_mode)) if with_mode else "-"
            if stat.S_ISLNK(st.st_mode):
                lines.append(f"{rel} l - {os.readlink(p)}")
            elif stat.S_ISDIR(st.st_mode):
                lines.append(f"{rel} d {mode} -")
            elif stat.S_ISREG(st.st_mode):
                lines.append(f"{rel} f {mode} {sha256_file(p)}")
            else:
                lines.append(f"{rel} ? {mode} -")
    for line in sorted(lines):
        print(line)


def cmd_png(args):
    import zlib

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00"))
           + chunk(b"IEND", b""))
    with open(args[0], "wb") as f:
        f.write(png)


def cmd_model(args):
    root = args[0]
    os.makedirs(root, exist_ok=True)
    rng = random.Random(42)
    for shard in (1, 2):
        n = 64 * 64
        header = json.dumps({"w": {"dtype": "BF16", "shape": [64, 64],
                                   "data_offsets": [0, 2 * n]}}).encode()
        # bf16-like: random mantissa byte, low-entropy sign/exponent byte.
        body = bytearray()
        for _ in range(n):
            body.append(rng.randrange(256))
            body.append(rng.choice((0x3C, 0x3D, 0xBC, 0xBD)))
        name = f"model-0000{shard}-of-00002.safetensors"
        with open(os.path.join(root, name), "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + bytes(body))
    with open(os.path.join(root, "config.json"), "w") as f:
        json.dump({"architectures": ["TinyForCausalLM"], "hidden_size": 64,
                   "torch_dtype": "bfloat16"}, f)
    with open(os.path.join(root, "tokenizer.json"), "w") as f:
        json.dump({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}}}, f)
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write("# tiny\n\nA model-shaped fixture for the interop suite.\n")


def cmd_layout_digest(args):
    if len(args) not in (1, 2):
        die("usage: layout-digest LAYOUT [TAG]")
    with open(os.path.join(args[0], "index.json"), "rb") as f:
        idx = json.load(f)
    mans = idx.get("manifests") or []
    if len(args) == 2:
        hits = [m for m in mans
                if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == args[1]]
        if len(hits) != 1:
            die(f"layout-digest: {args[0]}: tag {args[1]!r} names {len(hits)} entries, want 1")
    else:
        hits = mans
        if len(hits) != 1:
            die(f"layout-digest: {args[0]}: {len(hits)} entries in index.json, want exactly 1")
    print(hits[0]["digest"])


def get_manifest(args, name):
    if len(args) != 3:
        die(f"usage: {name} ADDR REPO REF")
    addr, repo, ref = args
    req = urllib.request.Request(f"http://{addr}/v2/{repo}/manifests/{ref}",
                                 headers={"Accept": ACCEPT})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
        header = resp.headers.get("Docker-Content-Digest", "")
    got = "sha256:" + hashlib.sha256(body).hexdigest()
    if header and header != got:
        die(f"{name}: {addr}/{repo}:{ref}: Docker-Content-Digest {header} != sha256 of body {got}")
    return body, got


def cmd_reg_digest(args):
    print(get_manifest(args, "reg-digest")[1])


def cmd_reg_manifest(args):
    sys.stdout.buffer.write(get_manifest(args, "reg-manifest")[0])


def read_manifest():
    return json.load(sys.stdin)


def cmd_blobs(_args):
    m = read_manifest()
    for d in [m.get("config")] + (m.get("layers") or []):
        if d:
            print(d["digest"], d["size"])


def cmd_crane_full_validate(_args):
    m = read_manifest()
    cfg = (m.get("config") or {}).get("mediaType", "")
    tars = [d["mediaType"] for d in m.get("layers") or [] if d["mediaType"] in CRANE_LAYER_TYPES]
    zstd = [t for t in tars if t.endswith("+zstd")]
    if zstd:
        print(f"crane validate gunzips every layer it treats as an image layer; {zstd[0]} is zstd")
        sys.exit(1)
    if tars and cfg not in CRANE_CONFIG_TYPES:
        print(f"crane validate takes layer diffIDs from an image config; config is {cfg!r} "
              f"and layers include {tars[0]}")
        sys.exit(1)


COMMANDS = {
    "tree": cmd_tree,
    "png": cmd_png,
    "model": cmd_model,
    "layout-digest": cmd_layout_digest,
    "reg-digest": cmd_reg_digest,
    "reg-manifest": cmd_reg_manifest,
    "blobs": cmd_blobs,
    "crane-full-validate": cmd_crane_full_validate,
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die("usage: oci.py {" + ",".join(COMMANDS) + "} ARGS")
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
