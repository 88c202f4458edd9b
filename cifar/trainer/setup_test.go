package trainer

import (
	"context"
	"errors"
	"testing"

	"github.com/hgdtune/hgdtune/cifar"
)

func TestSetupOpen(t *testing.T) {
	ctx := context.Background()
	s := Setup{
		Load:    func(context.Context) (*cifar.Dataset, error) { return cifar.Synthetic(200, 10, 1), nil },
		Subset:  100,
		Split:   cifar.SplitConfig{Seed: 1},
		Backend: "go",
	}
	env, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if n := env.Data.Train.Len() + env.Data.Val.Len(); n != 100 {
		t.Errorf("the split holds %d images, want the first 100", n)
	}
	want, err := SplitData(cifar.Synthetic(200, 10, 1).Head(100), cifar.SplitConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if env.Data.Norm != want.Norm || env.Data.Train.Len() != want.Train.Len() {
		t.Errorf("Open's split differs from SplitData's")
	}
	if env.Spec != "go" || env.Describe() == "" {
		t.Errorf("spec %q, description %q", env.Spec, env.Describe())
	}
	tr, err := env.New(Config{Net: small1})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()

	boom := errors.New("boom")
	s.Load = func(context.Context) (*cifar.Dataset, error) { return nil, boom }
	if _, err := s.Open(ctx); !errors.Is(err, boom) {
		t.Errorf("Open with a failing load = %v, want it", err)
	}
	s.Load, s.Backend = nil, "no-such-backend"
	s.Data = cifar.Config{DataDir: t.TempDir(), CacheDir: t.TempDir()}
	if _, err := s.Open(ctx); err == nil {
		t.Error("Open of an empty data folder succeeded")
	}
}
