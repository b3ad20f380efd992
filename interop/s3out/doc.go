// Package s3out holds the tests of wcdl -o s3:// against versitygw.
package s3out
