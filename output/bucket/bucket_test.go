package bucket

import (
	"errors"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tt := range []struct {
		in             string
		bucket, prefix string
		bad            bool
	}{
		{in: "s3://tiles", bucket: "tiles"},
		{in: "s3://tiles/", bucket: "tiles"},
		{in: "s3://tiles/wc", bucket: "tiles", prefix: "wc/"},
		{in: "s3://tiles/wc/2021/", bucket: "tiles", prefix: "wc/2021/"},
		{in: "s3:///wc", bad: true},
		{in: "gs://tiles/wc", bad: true},
		{in: "s3://key:secret@tiles/wc", bad: true},
		{in: "s3://tiles/wc?x=1", bad: true},
		{in: "s3://tiles/a.b_c-d/", bucket: "tiles", prefix: "a.b_c-d/"},
		{in: "s3://tiles/../wc", bad: true},
		{in: "s3://tiles/wc/..", bad: true},
		{in: "s3://tiles/./wc", bad: true},
		{in: "s3://tiles//wc", bad: true},
		{in: "s3://tiles//", bad: true},
		{in: "s3://tiles/wc//2021", bad: true},
		{in: "s3://tiles:9000/wc", bad: true},
		{in: "s3://ti/wc", bad: true},
		{in: "s3://tiles%2Fx/wc", bad: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			b, p, err := ParseURL(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrBadURL) {
					t.Fatalf("ParseURL(%q) = %q, %q, %v; want ErrBadURL", tt.in, b, p, err)
				}
				return
			}
			if err != nil || b != tt.bucket || p != tt.prefix {
				t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.in, b, p, err, tt.bucket, tt.prefix)
			}
		})
	}
}

// TestPartSize: parts are the configured size unless the file needs
// larger ones to fit in maxParts, in whole MiB.
func TestPartSize(t *testing.T) {
	b := &Bucket{cfg: Config{PartSize: DefaultPartSize}}
	for _, tt := range []struct {
		size, want int64
	}{
		{size: -1, want: DefaultPartSize},
		{size: 1 << 20, want: DefaultPartSize},
		{size: DefaultPartSize * maxParts, want: DefaultPartSize},
		{size: DefaultPartSize*maxParts + 1, want: DefaultPartSize + 1<<20},
		{size: 1 << 40, want: 105 << 20},
	} {
		got := b.partSize(tt.size)
		if got != tt.want {
			t.Errorf("partSize(%d) = %d, want %d", tt.size, got, tt.want)
		}
		if tt.size > 0 && (tt.size+got-1)/got > maxParts {
			t.Errorf("partSize(%d) = %d: %d parts, more than %d", tt.size, got, (tt.size+got-1)/got, maxParts)
		}
	}
}
