//go:build !unix

package rtest

import "os"

func peakRSSKB(*os.ProcessState) int64 { return 0 }

var timeoutSignal os.Signal = os.Kill
