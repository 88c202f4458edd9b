//go:build !unix

package cifar

import "os"

// openFlags opens data files for reading (no FIFOs to guard against here;
// openRegular's checks still refuse anything but regular files).
const openFlags = os.O_RDONLY
