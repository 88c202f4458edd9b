// Package umasktest is test support shared by the packages that check the
// permissions of the files they write: it reads the process's umask.
package umasktest
