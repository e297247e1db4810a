package engine

import (
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func allExist(string) bool { return true }

func TestDebouncerQuietPeriodEndsBurst(t *testing.T) {
	d := newDebouncer(100*time.Millisecond, 5*time.Second)
	if d.pending() {
		t.Fatal("a new debouncer has a pending burst")
	}
	d.addPath("a.sh", false, false, at(0))
	d.addPath("b.sh", false, false, at(40))
	d.addPath("a.sh", false, false, at(90))
	if got, want := d.due(), at(190); !got.Equal(want) {
		t.Fatalf("due = %v, want %v (100 ms after the last change)", got.Sub(t0), want.Sub(t0))
	}
	b := d.take(at(190), allExist)
	if want := []string{"a.sh", "b.sh"}; !reflect.DeepEqual(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}
	if d.pending() {
		t.Error("burst still pending after take")
	}
}

func TestDebouncerCapsContinuousWrites(t *testing.T) {
	d := newDebouncer(100*time.Millisecond, 5*time.Second)
	fired := 0
	// A writer that changes a file every 50 ms for 12 s: the quiet period
	// never passes, so only the cap ends bursts.
	for ms := 0; ms <= 12000; ms += 50 {
		now := at(ms)
		if d.pending() && !now.Before(d.due()) {
			d.take(now, allExist)
			fired++
		}
		d.addPath("out.log", false, false, now)
	}
	if fired != 2 {
		t.Errorf("bursts ended by the cap in 12 s of writes = %d, want 2 (one per 5 s)", fired)
	}
	// The writes stop at 12 s, so the quiet period ends the third burst.
	if got, want := d.due(), at(12100); !got.Equal(want) {
		t.Errorf("due of the third burst = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
}

func TestDebouncerFoldsDirectoriesIntoTheirFiles(t *testing.T) {
	d := newDebouncer(100*time.Millisecond, 5*time.Second)
	d.addPath("src/new", true, false, at(0))
	d.addPath("src/new/deep", true, false, at(1))
	d.addPath("src/new/deep/a.txt", false, false, at(2))
	d.addPath("empty", true, false, at(3))
	b := d.take(at(200), allExist)
	if want := []string{"empty/", "src/new/deep/a.txt"}; !reflect.DeepEqual(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}
}

func TestDebouncerConfigAndOverflow(t *testing.T) {
	d := newDebouncer(100*time.Millisecond, 5*time.Second)
	d.addConfig(at(0))
	if !d.pending() {
		t.Fatal("a config change does not start a burst")
	}
	b := d.take(at(100), allExist)
	if !b.ConfigChanged || len(b.Paths) != 0 {
		t.Errorf("batch = %+v, want only ConfigChanged", b)
	}
	d.addOverflow(at(200))
	if b := d.take(at(300), allExist); !b.Overflow || b.ConfigChanged {
		t.Errorf("batch = %+v, want only Overflow", b)
	}
}

func TestBatchMergeKeepsOnePathEach(t *testing.T) {
	b := Batch{Paths: []string{"b.sh", "c.sh"}, Time: at(0)}
	b.merge(Batch{Paths: []string{"a.sh", "b.sh"}, ConfigChanged: true, Time: at(500)})
	if want := []string{"a.sh", "b.sh", "c.sh"}; !reflect.DeepEqual(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}
	if !b.ConfigChanged {
		t.Error("ConfigChanged lost in merge")
	}
	if !b.Time.Equal(at(500)) {
		t.Errorf("time = %v, want the later batch's", b.Time.Sub(t0))
	}
}

func TestDebouncerDropsTemporaryFiles(t *testing.T) {
	d := newDebouncer(100*time.Millisecond, 5*time.Second)
	// sed -i on wercker.yml: a temporary file is created, written and
	// renamed over the original.
	d.addPath("sedX1b2c3", false, true, at(0))
	d.addPath("sedX1b2c3", false, false, at(1))
	// An existing file removed in the same burst is a real change.
	d.addPath("old.sh", false, false, at(2))
	// A file created and still there is a real change.
	d.addPath("new.sh", false, true, at(3))
	exists := func(rel string) bool { return rel == "new.sh" }
	b := d.take(at(200), exists)
	if want := []string{"new.sh", "old.sh"}; !reflect.DeepEqual(b.Paths, want) {
		t.Errorf("paths = %q, want %q", b.Paths, want)
	}

	d.addPath("tmp123", false, true, at(300))
	if b := d.take(at(500), exists); !b.empty() {
		t.Errorf("batch of a file that came and went = %+v, want empty", b)
	}
}
