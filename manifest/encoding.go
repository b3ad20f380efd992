package manifest

import (
	"bufio"
	"fmt"
)

// utf16 reports whether the input starts like UTF-16 text: a UTF-16 byte
// order mark, or an ASCII character with a NUL byte beside it, as Windows
// editors and PowerShell's ">" write. It returns the byte order's name.
func utf16(br *bufio.Reader) (string, bool) {
	b, _ := br.Peek(2)
	if len(b) < 2 {
		return "", false
	}
	switch {
	case b[0] == 0xFF && b[1] == 0xFE, b[0] != 0 && b[0] < 0x80 && b[1] == 0:
		return "UTF-16LE", true
	case b[0] == 0xFE && b[1] == 0xFF, b[0] == 0 && b[1] != 0 && b[1] < 0x80:
		return "UTF-16BE", true
	}
	return "", false
}

// utf16Error names a manifest that is UTF-16, which no line of it would
// otherwise tell, and how to convert it.
func utf16Error(file, order string) error {
	return fmt.Errorf("%s: the manifest is %s text; save it as UTF-8 (for example: iconv -f %s -t UTF-8 %s > tiles-utf8.txt)",
		file, order, order, file)
}
