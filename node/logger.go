package node

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cometLogger sends CometBFT's logs to slog. CometBFT reports every block
// at info level; unless asked, those go to debug so a node's own messages
// stay readable.
type cometLogger struct {
	l          *slog.Logger
	infoAsInfo bool
}

func newCometLogger(l *slog.Logger, infoAsInfo bool) cmtlog.Logger {
	return cometLogger{l: l, infoAsInfo: infoAsInfo}
}

func (c cometLogger) Debug(msg string, kv ...any) {
	c.l.Log(context.Background(), slog.LevelDebug, msg, kv...)
}
func (c cometLogger) Error(msg string, kv ...any) {
	c.l.Log(context.Background(), slog.LevelError, msg, kv...)
}
func (c cometLogger) Info(msg string, kv ...any) {
	lvl := slog.LevelDebug
	if c.infoAsInfo {
		lvl = slog.LevelInfo
	}
	c.l.Log(context.Background(), lvl, msg, kv...)
}
func (c cometLogger) With(kv ...any) cmtlog.Logger {
	return cometLogger{l: c.l.With(kv...), infoAsInfo: c.infoAsInfo}
}
