// Golden reference for Cairn's ModelKit layers and config: builds tar layers with Go's
// archive/tar following KitOps §2.5 (as kit's pkg/lib/filesystem does) and marshals Kitfile
// structs with encoding/json, so tests can compare Cairn's bytes with Go's without kit.
//
// Usage:
//
//	go run . layer <contextDir> <layerPath> [excludedPath...]   -> "<sha256hex> <size>" (and -o FILE)
//	go run . headers < lines of {"name","type","mode","size"}    -> hex of each header's bytes
//	go run . config < Kitfile JSON                               -> compact config JSON
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: layer|headers|config")
	}
	switch os.Args[1] {
	case "layer":
		layer(os.Args[2], os.Args[3], os.Args[4:])
	case "headers":
		headers()
	case "config":
		config()
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

// layer walks the context like filepath.Walk (sorted, pre-order) and writes every ancestor of
// the layer path, the path itself and its subtree, skipping paths under excluded layers.
func layer(contextDir, layerPath string, excluded []string) {
	layerPath = filepath.Clean(layerPath)
	h := sha256.New()
	var out io.Writer = h
	if f := os.Getenv("GOLDEN_OUT"); f != "" {
		file, err := os.Create(f)
		if err != nil {
			fail(err.Error())
		}
		defer file.Close()
		out = io.MultiWriter(h, file)
	}
	counter := &countWriter{w: out}
	tw := tar.NewWriter(counter)
	err := filepath.Walk(contextDir, func(file string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(contextDir, file)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		inLayer := layerPath == "." || rel == layerPath || strings.HasPrefix(rel, layerPath+"/")
		ancestor := strings.HasPrefix(layerPath, rel+"/")
		if !inLayer && !ancestor {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if inLayer {
			for _, ex := range excluded {
				if strings.HasPrefix(rel, ex) {
					if fi.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
			}
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = rel
		hdr.Uid, hdr.Gid = 1000, 0
		hdr.Uname, hdr.Gname = "", ""
		hdr.ModTime = time.Time{}
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		hdr.Format = tar.FormatUnknown
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail(err.Error())
	}
	if err := tw.Close(); err != nil {
		fail(err.Error())
	}
	fmt.Printf("%s %d\n", hex.EncodeToString(h.Sum(nil)), counter.n)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type headerSpec struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Mode int64  `json:"mode"`
	Size int64  `json:"size"`
}

// headers prints the bytes tar.Writer.WriteHeader emits for each header, without data.
func headers() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s headerSpec
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			fail(err.Error())
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		hdr := &tar.Header{Name: s.Name, Mode: s.Mode, Uid: 1000, Typeflag: tar.TypeReg, Size: s.Size}
		if s.Type == "dir" {
			hdr.Typeflag = tar.TypeDir
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			fail(err.Error())
		}
		fmt.Println(hex.EncodeToString(buf.Bytes()))
	}
}

// The Kitfile structs of kit's pkg/artifact, re-declared from the spec (field order and tags).
type KitFile struct {
	ManifestVersion string      `json:"manifestVersion"`
	Package         Package     `json:"package"`
	Model           *Model      `json:"model,omitempty"`
	Code            []Code      `json:"code,omitempty"`
	DataSets        []DataSet   `json:"datasets,omitempty"`
	Docs            []Docs      `json:"docs,omitempty"`
	Prompts         []Prompt    `json:"prompts,omitempty"`
	MCPServers      []MCPServer `json:"mcpServers,omitempty"`
}

type LayerInfo struct {
	Digest string `json:"digest,omitempty"`
	DiffId string `json:"diffId,omitempty"`
}

type Package struct {
	Name        string   `json:"name,omitempty"`
	Version     string   `json:"version,omitempty"`
	Description string   `json:"description,omitempty"`
	License     string   `json:"license,omitempty"`
	Authors     []string `json:"authors,omitempty"`
}

type Model struct {
	Name        string      `json:"name,omitempty"`
	Path        string      `json:"path,omitempty"`
	License     string      `json:"license,omitempty"`
	Framework   string      `json:"framework,omitempty"`
	Format      string      `json:"format,omitempty"`
	Version     string      `json:"version,omitempty"`
	Description string      `json:"description,omitempty"`
	Parts       []ModelPart `json:"parts,omitempty"`
	Parameters  any         `json:"parameters,omitempty"`
	*LayerInfo  `json:",omitempty"`
}

type ModelPart struct {
	Name       string `json:"name,omitempty"`
	Path       string `json:"path,omitempty"`
	License    string `json:"license,omitempty"`
	Type       string `json:"type,omitempty"`
	*LayerInfo `json:",omitempty"`
}

type Code struct {
	Path        string `json:"path,omitempty"`
	Description string `json:"description,omitempty"`
	License     string `json:"license,omitempty"`
	*LayerInfo  `json:",omitempty"`
}

type DataSet struct {
	Name        string `json:"name,omitempty"`
	Path        string `json:"path,omitempty"`
	RemotePath  string `json:"remotePath,omitempty"`
	RemoteHash  string `json:"remoteHash,omitempty"`
	Description string `json:"description,omitempty"`
	License     string `json:"license,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
	*LayerInfo  `json:",omitempty"`
}

type Docs struct {
	Path        string `json:"path"`
	Description string `json:"description,omitempty"`
	*LayerInfo  `json:",omitempty"`
}

type Prompt struct {
	Name        string `json:"name,omitempty"`
	Path        string `json:"path,omitempty"`
	Description string `json:"description,omitempty"`
	*LayerInfo  `json:",omitempty"`
}

type MCPServer struct {
	Name        string `json:"name,omitempty"`
	Path        string `json:"path,omitempty"`
	Description string `json:"description,omitempty"`
	*LayerInfo  `json:",omitempty"`
}

// config re-marshals a Kitfile given as JSON (numbers decoded as float64, as kit holds them
// after a JSON round trip).
func config() {
	dec := json.NewDecoder(os.Stdin)
	var k KitFile
	if err := dec.Decode(&k); err != nil {
		fail(err.Error())
	}
	b, err := json.Marshal(k)
	if err != nil {
		fail(err.Error())
	}
	os.Stdout.Write(b)
}
