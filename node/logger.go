package node

import (
	"context"
	"errors"
	"log/slog"
	"net"

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
	lvl := slog.LevelError
	if benign(msg, kv) {
		lvl = slog.LevelDebug
	}
	c.l.Log(context.Background(), lvl, msg, kv...)
}

// benign tells the errors CometBFT logs during a clean shutdown.
func benign(msg string, kv []any) bool {
	switch msg {
	case "Stopped accept routine, as transport is closed":
		return true
	case "Error serving server":
		for _, v := range kv {
			if err, ok := v.(error); ok && errors.Is(err, net.ErrClosed) {
				return true
			}
		}
	}
	return false
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

// slogOf returns the slog logger behind a CometBFT logger made by
// newCometLogger, or the default.
func slogOf(l cmtlog.Logger) *slog.Logger {
	if c, ok := l.(cometLogger); ok {
		return c.l
	}
	return slog.Default()
}
