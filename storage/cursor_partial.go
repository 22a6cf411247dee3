package storage

import (
	"bytes"
	"fmt"

	"github.com/strata-db/strata/storage/block"
)

// Partial reads of a cursor's chunk (block.Decoder.DecodeValues and
// DecodeTimes): an approximate distinct count or percentile of a block that
// lies in one window reads its values and not its times; a tag's row count
// over a series of several fields reads each field's times and not its
// values.

// Values returns the current chunk's values without their times when the
// chunk is one stored block wholly inside the cursor's range (Stats is not
// nil): the column's Times is empty and its value slice holds the block's
// Count values in time order. For any other chunk it is Column (times
// included). The column is valid until the next call to Next or Close.
func (c *Cursor) Values() (*Column, error) {
	if c.out != nil || c.Stats() == nil {
		return c.Column()
	}
	b, err := c.blockBytes(c.cur[0].key)
	if err != nil {
		return nil, err
	}
	if err := c.dec.DecodeValues(&c.col, b); err != nil {
		c.err = fmt.Errorf("block %x: %w", c.cur[0].key, err)
		return nil, c.err
	}
	c.blocks++
	return &c.col, nil
}

// Decimals is Values for a caller that takes a decimal float block's
// mantissas (block.Decoder.DecodeDecimals): when the chunk is one stored
// block inside the range and a float block stored as decimals, the
// column's Ints hold its mantissas and Decimals returns their scale and
// true; otherwise it is Values and returns false.
func (c *Cursor) Decimals() (*Column, uint, bool, error) {
	if c.out != nil || c.Stats() == nil {
		col, err := c.Column()
		return col, 0, false, err
	}
	b, err := c.blockBytes(c.cur[0].key)
	if err != nil {
		return nil, 0, false, err
	}
	scale, ok, err := c.dec.DecodeDecimals(&c.col, b)
	if err != nil {
		c.err = fmt.Errorf("block %x: %w", c.cur[0].key, err)
		return nil, 0, false, c.err
	}
	c.blocks++
	return &c.col, scale, ok, nil
}

// DecimalRange is block.DecimalRange of the current chunk when it is one
// stored block inside the range (Stats is not nil), read from the block's
// header without decoding its body; for any other chunk ok is false.
func (c *Cursor) DecimalRange() (scale uint, lo, hi int64, ok bool, err error) {
	if c.out != nil || c.Stats() == nil {
		return 0, 0, 0, false, nil
	}
	b, err := c.blockBytes(c.cur[0].key)
	if err != nil {
		return 0, 0, 0, false, err
	}
	if scale, lo, hi, ok, err = block.DecimalRange(b); err != nil {
		c.err = fmt.Errorf("block %x: %w", c.cur[0].key, err)
		return 0, 0, 0, false, c.err
	}
	return scale, lo, hi, ok, nil
}

// Times returns the current chunk's timestamps within the range, in
// ascending order, decoding no values of a chunk that is one stored block.
// ts is reused for them; the result is valid until the next call to Times
// with the same ts, or to Next or Close.
func (c *Cursor) Times(ts []int64) ([]int64, error) {
	if len(c.cur) != 1 || c.cur[0].key == nil || c.ranges != nil {
		col, err := c.Column()
		if err != nil {
			return nil, err
		}
		return col.Times, nil
	}
	key := c.cur[0].key
	b, err := c.blockBytes(key)
	if err != nil {
		return nil, err
	}
	if ts, err = c.dec.DecodeTimes(ts, b); err != nil {
		c.err = fmt.Errorf("block %x: %w", key, err)
		return nil, c.err
	}
	c.blocks++
	return trimTimes(ts, c.min, c.max), nil
}

// trimTimes is the part of ascending ts inside [min, max].
func trimTimes(ts []int64, min, max int64) []int64 {
	i := 0
	for i < len(ts) && ts[i] < min {
		i++
	}
	j := len(ts)
	for j > i && ts[j-1] > max {
		j--
	}
	return ts[i:j]
}

// blockBytes reads the block stored under key through the cursor's iterator
// (decode's read, for a partial decode); the bytes are valid until the
// iterator moves.
func (c *Cursor) blockBytes(key []byte) ([]byte, error) {
	if c.shared {
		// Another cursor of the snapshot may have re-bounded the iterator since.
		c.it.SetBounds(c.lower, c.upper)
	}
	if !c.it.SeekGE(key) || !bytes.Equal(c.it.Key(), key) {
		c.err = fmt.Errorf("block %x vanished from the cursor's view", key)
		if err := c.it.Error(); err != nil {
			c.err = err
		}
		return nil, c.err
	}
	return c.it.Value(), nil
}
