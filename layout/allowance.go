package layout

import (
	"fmt"
	"sync"

	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// Budgets and the repair allowance (RELIABILITY I14, issue 12 class 2).
//
// Every write is checked against the budget its reader applies before it
// happens: index.json (UpdateIndex) and every manifest, index and JSON
// config (PutDocument) at most strictjson.MaxDocument bytes and
// MaxDescriptors descriptors. A layout's index.json — the one document
// oci-pack keeps growing, with every tag and referrer — can still be over
// its budget: an older oci-pack, another tool, a hand edit. Then every
// command would refuse the layout as corrupt, leaving no way back. A
// layout opened with Options.Repair (untag, gc, verify) reads index.json
// with RepairAllowance times its budgets, says so through Options.Notify,
// and may write an index.json still over budget only if the write shrinks
// it: repair never makes anything larger. Manifests and other documents
// get no allowance (parsed, they are what memory must stay bounded
// against, RELIABILITY [M]): one over its budget is reported by verify,
// and untag, then gc, removes it.

// RepairAllowance multiplies index.json's budgets when a layout is opened
// with Options.Repair. Twice the budget bounds the memory of parsing it
// (at worst ~16 MiB of tiny annotations) within the 256 MiB a command may
// use.
const RepairAllowance = 2

// docBudget is the byte budget for reading index.json.
func (l *Layout) docBudget() int64 {
	if l.opts.Repair {
		return RepairAllowance * strictjson.MaxDocument
	}
	return strictjson.MaxDocument
}

// descBudget is the descriptor budget for reading index.json.
func (l *Layout) descBudget() int {
	if l.opts.Repair {
		return RepairAllowance * MaxDescriptors
	}
	return MaxDescriptors
}

// overBudget tells Options.Notify, once per object, that what was read
// with the repair allowance: n is over limit.
func (l *Layout) overBudget(what string, n, limit int64, unit string) {
	if l.opts.Notify == nil {
		return
	}
	if _, told := l.told.LoadOrStore(what, true); told {
		return
	}
	l.opts.Notify(fmt.Sprintf("%s is %d %s, over the %d every reader allows: read with the repair allowance (%d×) so that untag and gc can bring it back under", what, n, unit, limit, RepairAllowance))
}

// overBudgetNotes remembers what was told (Layout.told).
type overBudgetNotes = sync.Map

// checkBudgets reports a document (raw, with n descriptors) that is over
// a budget every reader applies: verify lists it, read under the repair
// allowance, as a problem to fix.
func checkBudgets(raw []byte, n int) error {
	switch {
	case len(raw) > strictjson.MaxDocument:
		return fmt.Errorf("%d bytes, over the %d every reader allows (untag to bring it back under)", len(raw), strictjson.MaxDocument)
	case n > MaxDescriptors:
		return fmt.Errorf("%d descriptors, over the %d every reader allows", n, MaxDescriptors)
	}
	return nil
}
