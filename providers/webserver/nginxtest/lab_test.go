package nginxtest

import (
	"net/http"
	"testing"
)

func TestLabAnswers(t *testing.T) {
	lab := Start(t)
	resp, err := http.Get("http://" + lab.HTTP + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("default server answers %d", resp.StatusCode)
	}
}
