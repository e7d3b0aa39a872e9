package paywallet

// Test hooks.

// SetCompactAt sets how many records the journal holds before a rewrite
// is considered.
func (p *Payee) SetCompactAt(n int) {
	p.w.mu.Lock()
	p.w.j.compactAt = n
	p.w.mu.Unlock()
}

// SetBeforeWrite sets a function the leader of each group commit runs
// before it writes.
func (p *Payee) SetBeforeWrite(f func()) {
	p.w.mu.Lock()
	p.w.j.beforeWrite = f
	p.w.mu.Unlock()
}

// Appended returns the records appended so far.
func (p *Payee) Appended() uint64 {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.w.j.seq
}

// FileRecords returns the records in the journal file.
func (p *Payee) FileRecords() int {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.w.j.records
}

// SetCompactAt sets how many records the payer's journal holds before a
// rewrite is considered.
func (p *Payer) SetCompactAt(n int) {
	p.w.mu.Lock()
	p.w.j.compactAt = n
	p.w.mu.Unlock()
}
