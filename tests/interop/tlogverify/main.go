// Command tlogverify checks Consilium's transparency-log output with the Go ecosystem's own
// packages: golang.org/x/mod/sumdb/note (signed notes), github.com/transparency-dev/formats/log
// (checkpoints) and github.com/transparency-dev/merkle (RFC 6962 proofs).
//
// It reads one JSON request on stdin. Verify (the default):
//
//	{"vkey": "...", "origin": "...", "checkpoint": "<signed note>",
//	 "inclusion": [{"leaf_hash": "<base64>", "proof": {"leaf_index": 0, "tree_size": 8, "hashes": ["<base64>"]}}],
//	 "old_checkpoint": "<signed note>", "consistency": {"old_size": 4, "new_size": 8, "hashes": ["<base64>"]}}
//
// exits 0 printing "OK ..." when everything verifies, 1 printing "REJECTED: ..." when something
// does not, 2 on a request it cannot read. Sign ({"mode": "sign", "origin", "size", "root_hash"})
// prints {"vkey", "checkpoint"} made by note.GenerateKey and note.Sign, for the reverse check.
package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

type inclusionProof struct {
	LeafIndex uint64   `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	Hashes    [][]byte `json:"hashes"`
}

type consistencyProof struct {
	OldSize uint64   `json:"old_size"`
	NewSize uint64   `json:"new_size"`
	Hashes  [][]byte `json:"hashes"`
}

type request struct {
	Mode       string `json:"mode"`
	Vkey       string `json:"vkey"`
	Origin     string `json:"origin"`
	Checkpoint string `json:"checkpoint"`
	Inclusion  []struct {
		LeafHash []byte         `json:"leaf_hash"`
		Proof    inclusionProof `json:"proof"`
	} `json:"inclusion"`
	OldCheckpoint string            `json:"old_checkpoint"`
	Consistency   *consistencyProof `json:"consistency"`
	Size          uint64            `json:"size"`
	RootHash      []byte            `json:"root_hash"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "unreadable request: %v\n", err)
		os.Exit(2)
	}
	if req.Mode == "sign" {
		if err := sign(req); err != nil {
			fmt.Fprintf(os.Stderr, "sign: %v\n", err)
			os.Exit(2)
		}
		return
	}
	summary, err := verify(req)
	if err != nil {
		fmt.Printf("REJECTED: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("OK %s\n", summary)
}

func verify(req request) (string, error) {
	verifier, err := note.NewVerifier(req.Vkey)
	if err != nil {
		return "", fmt.Errorf("verifier key: %v", err)
	}
	cp, _, _, err := log.ParseCheckpoint([]byte(req.Checkpoint), req.Origin, verifier)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %v", err)
	}
	for i, inc := range req.Inclusion {
		p := inc.Proof
		if p.TreeSize != cp.Size {
			return "", fmt.Errorf("inclusion %d: proof for size %d, checkpoint size %d", i, p.TreeSize, cp.Size)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, cp.Size, inc.LeafHash, p.Hashes, cp.Hash); err != nil {
			return "", fmt.Errorf("inclusion %d (leaf %d): %v", i, p.LeafIndex, err)
		}
	}
	summary := fmt.Sprintf("checkpoint %s size %d; %d inclusion proofs", cp.Origin, cp.Size, len(req.Inclusion))
	if req.Consistency == nil {
		return summary, nil
	}
	old, _, _, err := log.ParseCheckpoint([]byte(req.OldCheckpoint), req.Origin, verifier)
	if err != nil {
		return "", fmt.Errorf("old checkpoint: %v", err)
	}
	c := req.Consistency
	if c.OldSize != old.Size || c.NewSize != cp.Size {
		return "", fmt.Errorf("consistency: proof for %d->%d, checkpoints %d->%d", c.OldSize, c.NewSize, old.Size, cp.Size)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cp.Size, c.Hashes, old.Hash, cp.Hash); err != nil {
		return "", fmt.Errorf("consistency %d->%d: %v", old.Size, cp.Size, err)
	}
	return fmt.Sprintf("%s; consistent with size %d", summary, old.Size), nil
}

func sign(req request) error {
	skey, vkey, err := note.GenerateKey(rand.Reader, req.Origin)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	body := log.Checkpoint{Origin: req.Origin, Size: req.Size, Hash: req.RootHash}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, signer)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"vkey": vkey, "checkpoint": string(msg)})
}
