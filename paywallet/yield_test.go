package paywallet_test

import "runtime"

func runtimeYield() { runtime.Gosched() }
