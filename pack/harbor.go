package pack

import (
	"fmt"
	"io"
	"net/http"

	"github.com/oci-pack/oci-pack/layout"
)

// Harbor user-defined artifact annotations.
const (
	AnnotationHarborIcon     = "io.goharbor.artifact.v1alpha1.icon"
	AnnotationHarborSkipList = "io.goharbor.artifact.v1alpha1.skip-list"
	// MaxIconSize is the most Harbor reads of an icon.
	MaxIconSize = 1 << 20
)

// planIcon checks an icon the way Harbor will judge it — at most 1 MiB,
// sniffed by net/http.DetectContentType as PNG, GIF or JPEG — and plans
// it as a raw layer of that media type with the icon annotation.
func planIcon(p string) (*layerPlan, error) {
	f, err := openInput(p)
	if err != nil {
		return nil, fmt.Errorf("icon: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxIconSize {
		return nil, fmt.Errorf("%w: icon %s is %d bytes; Harbor shows icons of at most %d bytes", layout.ErrInvalidArgument, p, fi.Size(), MaxIconSize)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("icon %s: %w", p, err)
	}
	mt := http.DetectContentType(head[:n])
	switch mt {
	case "image/png", "image/gif", "image/jpeg":
	default:
		return nil, fmt.Errorf("%w: icon %s looks like %s; Harbor accepts only image/png, image/gif or image/jpeg", layout.ErrInvalidArgument, p, mt)
	}
	title, err := titleOf(Input{Path: p})
	if err != nil {
		return nil, err
	}
	return &layerPlan{
		title:       title,
		path:        p,
		info:        fi,
		mediaType:   mt,
		size:        fi.Size(),
		annotations: map[string]string{"org.opencontainers.image.title": title, AnnotationHarborIcon: ""},
	}, nil
}
