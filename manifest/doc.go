// Package manifest reads what to download, from manifest files and bounding
// boxes, and checks it into a Plan: one Entry per file, each with its source
// URL, output name and expectations.
package manifest
