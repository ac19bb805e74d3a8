package archive

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
)

// SetParity makes v also write n parity volumes FILE.par0 … (see
// ParityWriter), listed in the sidecar after the data volumes. It must be
// called before the first Write, on a split writer. n = 0 does nothing
// but still removes stale parity volumes of the same name at Commit.
func (v *VolumeWriter) SetParity(n int) error {
	switch {
	case n == 0:
		return nil
	case v.split == 0:
		return fmt.Errorf("%w: parity volumes need a split size: they protect volumes, not one file", layout.ErrInvalidArgument)
	case n < 0 || n > MaxParity:
		return fmt.Errorf("%w: parity %d: want 1..%d volumes", layout.ErrInvalidArgument, n, MaxParity)
	case v.n > 0 || len(v.done) > 0:
		return fmt.Errorf("parity: set after writing began")
	}
	p, err := CreateParity(v.path, n, v.check)
	if err != nil {
		return err
	}
	v.parity = p
	return nil
}

// ParityVolumes are the parity volumes Commit wrote (none without
// SetParity).
func (v *VolumeWriter) ParityVolumes() []Volume {
	if v.parity == nil {
		return nil
	}
	return v.parity.vols
}

// finishParity completes the parity volumes after the last data volume
// was finished, and returns every volume the sidecar lists.
func (v *VolumeWriter) finishParity() ([]Volume, error) {
	if v.parity == nil {
		return v.done, nil
	}
	pvols, err := v.parity.Finish(v.done)
	if err != nil {
		return nil, err
	}
	return append(append([]Volume{}, v.done...), pvols...), nil
}

// commitParity renames the parity volumes to their final names, or —
// without parity — removes parity volumes an earlier export to the same
// name left: they would describe other data.
func (v *VolumeWriter) commitParity() error {
	if v.parity == nil {
		return removeStaleParity(v.path, 0)
	}
	return v.parity.Commit()
}

// dataVolumeLimit is how many data volumes an export with o may have, and
// what sets the limit (for the refusal): the volume names, or with parity
// the code (MaxParityData).
func dataVolumeLimit(o ExportOptions) (int64, string) {
	if o.Parity > 0 {
		return MaxParityData, fmt.Sprintf("the %d data volumes parity volumes cover", MaxParityData)
	}
	return MaxVolumes, fmt.Sprintf("the %d volume names .000 to .%03d", MaxVolumes, MaxVolumes-1)
}
