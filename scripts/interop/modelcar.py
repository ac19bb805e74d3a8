#!/usr/bin/env python3
"""Helpers for scripts/interop/modelcar.sh (the image-volume form, issue 17).

  platform-digest LAYOUT TAG ARCH   digest of TAG's linux/ARCH image manifest
  chain-id LAYOUT TAG ARCH          containerd's chain ID of that image (the
                                    snapshot that holds its root filesystem)
  size-check ARCHIVE DIR            ARCHIVE <= 1.01 x the bytes of DIR's files
                                    + 4 MiB; prints the ratio
  tamper ARCHIVE OUT recipe|raw     OUT = ARCHIVE with one byte of its recipe
                                    document (or of its largest blob) changed,
                                    its name left as it was
  tar-files TARFILE PREFIX          regular files of a tar below PREFIX/, sorted,
                                    PREFIX/ stripped (crane export output)
  files DIR                         regular files below DIR, sorted
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
        return f.read()


def tagged(layout, tag):
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m["digest"]
    sys.exit(f"{layout}: no tag {tag}")


def platform_manifest(layout, tag, arch):
    idx = json.loads(blob(layout, tagged(layout, tag)))
    for m in idx.get("manifests", []):
        p = m.get("platform", {})
        if p.get("os") == "linux" and p.get("architecture") == arch:
            return m["digest"]
    sys.exit(f"{layout}:{tag}: no linux/{arch} manifest")


def chain_id(layout, tag, arch):
    man = json.loads(blob(layout, platform_manifest(layout, tag, arch)))
    cfg = json.loads(blob(layout, man["config"]["digest"]))
    chain = None
    for d in cfg["rootfs"]["diff_ids"]:
        chain = d if chain is None else "sha256:" + hashlib.sha256(f"{chain} {d}".encode()).hexdigest()
    return chain


def files(top):
    out = []
    for root, _, names in os.walk(top):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p):
                out.append(os.path.relpath(p, top))
    return sorted(out)


def size_check(archive, top):
    total = sum(os.path.getsize(os.path.join(top, p)) for p in files(top))
    size = os.path.getsize(archive)
    limit = total * 1.01 + (4 << 20)
    print(f"archive {size} bytes, files {total} bytes: {size / max(total, 1):.4f}x (limit 1.01x + 4 MiB = {int(limit)})")
    return size <= limit


def tamper(archive, out, what):
    with tarfile.open(archive) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    idx = json.loads(next(b for m, b in members if m.name == "index.json"))
    if what == "recipe":
        name = "blobs/sha256/" + idx["annotations"]["io.github.oci-pack.tar-twins"].split(",")[0].split(":", 1)[1]
    else:
        name = max((m for m, _ in members if m.isfile()), key=lambda m: m.size).name
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for m, b in members:
            if m.name == name:
                b = bytearray(b)
                b[len(b) // 2] ^= 0x01
                b = bytes(b)
            t.addfile(m, None if b is None else io.BytesIO(b))
    print(f"changed one byte of {name}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "platform-digest":
        print(platform_manifest(*args))
    elif cmd == "chain-id":
        print(chain_id(*args))
    elif cmd == "size-check":
        sys.exit(0 if size_check(*args) else 1)
    elif cmd == "tamper":
        tamper(*args)
    elif cmd == "tar-files":
        tarname, prefix = args
        with tarfile.open(tarname) as t:
            names = sorted(m.name[len(prefix) + 1:] for m in t.getmembers() if m.isfile() and m.name.startswith(prefix + "/"))
        print("\n".join(names))
    elif cmd == "files":
        print("\n".join(files(args[0])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
