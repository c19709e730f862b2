package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/brokersync/brokersync/store"
)

// OrdersCSVColumns are the columns of an order history file, named as the
// JSON fields of the order webhook. The header row names the columns used,
// in any order; a row is one order event (usually one execution):
//
//	id,client,status,side,contract,quantity,cum_qty,last_qty,last_px,time
//	E-1001,acme-grain,filled,buy,ZCZ6,10,10,10,452.25,2026-03-02T15:04:05Z
//
// id (or exec_id), client, status, side, contract (or commodity), quantity
// and time are required; last_qty and last_px are required on fills. Times
// are RFC 3339 with a zone, or FIX UTCTimestamp.
var OrdersCSVColumns = []string{
	"id", "order_id", "exec_id", "client", "status", "side", "contract", "exchange", "commodity",
	"quantity", "cum_qty", "last_qty", "last_px", "avg_px", "price",
	"currency", "order_type", "time_in_force", "notes", "time",
}

// OrdersFile is a parsed order history file: its events and the line each
// started on, for error messages.
type OrdersFile struct {
	Events []OrderEvent
	Lines  []int
}

// importChunk is how many events one Store call writes: large enough to keep
// round trips few, small enough that a failure leaves little to redo.
const importChunk = 500

// ReadOrdersCSV reads an order history file. It reads it all or fails on the
// first problem with an error naming the line, the column and the value.
// Fields are only checked for form here; ImportOrders checks their meaning.
func ReadOrdersCSV(r io.Reader) (*OrdersFile, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty: the first line must name the columns (%s)", strings.Join(OrdersCSVColumns, ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) // a spreadsheet's byte-order mark
		if !slices.Contains(OrdersCSVColumns, h) {
			return nil, fmt.Errorf("line 1: column %q is not one of %s", header[i], strings.Join(OrdersCSVColumns, ", "))
		}
		if slices.Contains(cols[:i], h) {
			return nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		cols[i] = h
	}
	for _, need := range []string{"client", "status", "side", "quantity", "time"} {
		if !slices.Contains(cols, need) {
			return nil, fmt.Errorf("line 1: column %q is required", need)
		}
	}
	if !slices.Contains(cols, "id") && !slices.Contains(cols, "exec_id") {
		return nil, fmt.Errorf("line 1: column \"id\" (or \"exec_id\") is required")
	}
	if !slices.Contains(cols, "contract") && !slices.Contains(cols, "commodity") {
		return nil, fmt.Errorf("line 1: column \"contract\" (or \"commodity\") is required")
	}
	f := &OrdersFile{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		ev, err := orderFromRecord(cols, rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		f.Events = append(f.Events, ev)
		f.Lines = append(f.Lines, line)
	}
	if len(f.Events) == 0 {
		return nil, fmt.Errorf("no order events after the header line")
	}
	return f, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}

func orderFromRecord(cols, rec []string) (OrderEvent, error) {
	var ev OrderEvent
	text := map[string]*string{
		"id": &ev.ID, "order_id": &ev.OrderID, "exec_id": &ev.ExecID, "client": &ev.Client,
		"status": &ev.Status, "side": &ev.Side, "contract": &ev.Contract, "exchange": &ev.Exchange,
		"commodity": &ev.Commodity, "currency": &ev.Currency, "order_type": &ev.OrderType,
		"time_in_force": &ev.TimeInForce, "notes": &ev.Notes, "time": &ev.Time,
	}
	nums := map[string]**float64{
		"quantity": &ev.Quantity, "cum_qty": &ev.CumQty, "last_qty": &ev.LastQty,
		"last_px": &ev.LastPx, "avg_px": &ev.AvgPx, "price": &ev.Price,
	}
	for i, col := range cols {
		v := strings.TrimSpace(rec[i])
		if p, ok := text[col]; ok {
			*p = v
			continue
		}
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return ev, store.Invalid(col, "%q is not a number (write 1234.5, without thousands separators)", v)
		}
		*nums[col] = &f
	}
	return ev, nil
}

// ImportOrders checks and matches every event of an order history file
// before storing any, then stores them in chunks. A check failure names the
// line and stores nothing. A store failure part-way leaves the chunks before
// it stored; importing the same file again completes it without duplicating
// anything (event ids derive from the events' ids).
func (in *Intake) ImportOrders(ctx context.Context, f *OrdersFile) (Stored, error) {
	var total Stored
	entries, err := in.PrepareOrders(ctx, f.Events)
	if err != nil {
		var ie *ItemError
		if errors.As(err, &ie) && ie.Index < len(f.Lines) {
			return total, fmt.Errorf("line %d: %w", f.Lines[ie.Index], ie.Err)
		}
		return total, err
	}
	for start := 0; start < len(entries); start += importChunk {
		end := min(start+importChunk, len(entries))
		st, err := in.Store(ctx, entries[start:end])
		total.Events += st.Events
		total.NewFills += st.NewFills
		total.DuplicateFills += st.DuplicateFills
		if err != nil {
			return total, fmt.Errorf("storing lines %d-%d: %w", f.Lines[start], f.Lines[end-1], err)
		}
	}
	return total, nil
}
