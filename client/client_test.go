package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/types"
)

// A node that serves other content under a blob's hash (a lying or broken
// node) is caught: the client checks every hash it fetches.
func TestGetBlobChecksTheHash(t *testing.T) {
	want := []byte("the real input")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, types.SumHash(want).String()) {
			w.Write([]byte("something else"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c := New(srv.URL)
	_, err := c.GetBlob(context.Background(), types.SumHash(want))
	if err == nil || !strings.Contains(err.Error(), "content with another hash") {
		t.Fatalf("lying node: %v", err)
	}
	if _, err := c.GetBlob(context.Background(), types.SumHash([]byte("absent"))); err == nil {
		t.Fatal("a missing blob was returned")
	}
}
