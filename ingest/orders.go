package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/brokersync/brokersync/store"
)

// Order statuses as the timeline names them.
const (
	StatusPlaced          = "placed"
	StatusPartiallyFilled = "partially_filled"
	StatusFilled          = "filled"
	StatusCancelled       = "cancelled"
	StatusRejected        = "rejected"
)

// statusAliases maps what order systems send (FIX OrdStatus names and codes,
// US spelling) to our statuses.
var statusAliases = map[string]string{
	"placed": StatusPlaced, "new": StatusPlaced, "0": StatusPlaced,
	"partially_filled": StatusPartiallyFilled, "partial_fill": StatusPartiallyFilled, "1": StatusPartiallyFilled,
	"filled": StatusFilled, "2": StatusFilled,
	"cancelled": StatusCancelled, "canceled": StatusCancelled, "4": StatusCancelled,
	"rejected": StatusRejected, "8": StatusRejected,
}

// sides maps FIX Side names and codes to ours.
var sides = map[string]string{"buy": "buy", "1": "buy", "sell": "sell", "2": "sell"}

var timesInForce = map[string]string{
	"day": "day", "0": "day",
	"gtc": "gtc", "good_till_cancelled": "gtc", "good_till_canceled": "gtc", "1": "gtc",
	"ioc": "ioc", "immediate_or_cancel": "ioc", "3": "ioc",
	"fok": "fok", "fill_or_kill": "fok", "4": "fok",
	"gtd": "gtd", "good_till_date": "gtd", "6": "gtd",
	"moc": "moc", "market_on_close": "moc", "7": "moc",
	"opg": "opg", "at_the_opening": "opg", "2": "opg",
}

// maxFuture is how far ahead of our clock an event's time may be: clocks
// drift, but an order dated next week is a mistake worth rejecting.
const maxFuture = time.Hour

// OrderEvent is one order event as an order system sends it: the fields of a
// FIX 4.4 ExecutionReport (35=8) drop copy, in JSON. It is also one row of an
// order history CSV. Numbers are pointers so that "absent" differs from 0.
type OrderEvent struct {
	ID          string   `json:"id"`        // unique per event; redeliveries reuse it (defaults to exec_id)
	OrderID     string   `json:"order_id"`  // FIX 37
	ExecID      string   `json:"exec_id"`   // FIX 17
	Client      string   `json:"client"`    // handle, account number or client id
	Status      string   `json:"status"`    // placed, partially_filled, filled, cancelled, rejected
	Side        string   `json:"side"`      // buy or sell
	Contract    string   `json:"contract"`  // ZCZ6, ZCZ26, CBOT:ZSX6
	Exchange    string   `json:"exchange"`  // needed when the symbol is ambiguous (ZS)
	Commodity   string   `json:"commodity"` // catalogue key, optional with a contract
	Quantity    *float64 `json:"quantity"`  // order quantity, contracts (FIX 38)
	CumQty      *float64 `json:"cum_qty"`   // FIX 14
	LastQty     *float64 `json:"last_qty"`  // filled by this execution (FIX 32)
	LastPx      *float64 `json:"last_px"`   // FIX 31
	AvgPx       *float64 `json:"avg_px"`    // FIX 6
	Price       *float64 `json:"price"`     // limit or stop price (FIX 44)
	Currency    string   `json:"currency"`
	OrderType   string   `json:"order_type"`
	TimeInForce string   `json:"time_in_force"`
	Notes       string   `json:"notes"`
	Time        string   `json:"time"` // RFC 3339, or FIX UTCTimestamp 20261130-14:30:00.000
}

// Order is a validated order event, not yet matched to a client.
type Order struct {
	SourceID    string
	ClientRef   string
	Instrument  store.Instrument
	Attrs       store.OrderAttrs
	LastQty     float64
	LastPx      float64
	AvgPx       float64
	TimeInForce string
	Time        time.Time
}

// ParseOrder checks an order event and normalises it, its contract
// resolved in cat. now bounds how far in the future the event may be dated. Errors are EINVALID and name the field
// and the value.
func ParseOrder(ev OrderEvent, now time.Time, cat *store.Catalogue) (*Order, error) {
	o := &Order{SourceID: strings.TrimSpace(ev.ID), ClientRef: strings.TrimSpace(ev.Client)}
	if o.SourceID == "" {
		o.SourceID = strings.TrimSpace(ev.ExecID)
	}
	if o.SourceID == "" {
		return nil, store.Invalid("id", "required: the event's unique id (or exec_id)")
	}
	if len(o.SourceID) > 200 {
		return nil, store.Invalid("id", "longer than 200 characters")
	}
	if o.ClientRef == "" {
		return nil, store.Invalid("client", "required: a handle, account number or client id")
	}
	var err error
	if o.Time, err = ParseEventTime("time", ev.Time, now); err != nil {
		return nil, err
	}
	a := &o.Attrs
	a.OrderID, a.ExecID = strings.TrimSpace(ev.OrderID), strings.TrimSpace(ev.ExecID)
	a.Notes = strings.TrimSpace(ev.Notes)
	if a.Status, err = lookupWord("status", ev.Status, statusAliases, "placed, partially_filled, filled, cancelled or rejected"); err != nil {
		return nil, err
	}
	if a.Side, err = lookupWord("side", ev.Side, sides, "buy or sell"); err != nil {
		return nil, err
	}
	if o.Instrument, err = cat.ResolveInstrument(ev.Contract, ev.Exchange, ev.Commodity, o.Time); err != nil {
		return nil, err
	}
	a.Contract, a.Commodity = o.Instrument.Contract.Code, o.Instrument.Commodity.Key
	if err := o.parseQuantities(ev); err != nil {
		return nil, err
	}
	if c := strings.ToUpper(strings.TrimSpace(ev.Currency)); c != "" {
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return nil, store.Invalid("currency", "%q is not a three-letter currency code such as USD", ev.Currency)
		}
		a.Currency = c
	}
	if t := strings.TrimSpace(ev.OrderType); t != "" {
		ot := store.OrderType(strings.ReplaceAll(strings.ToLower(t), "_", "-"))
		switch ot {
		case store.Market, store.Limit, store.Stop, store.StopLimit, store.MarketIfTouch, store.TrailingStop, store.OneCancelOther:
			a.OrderType = string(ot)
		default:
			return nil, store.Invalid("order_type", "%q is not market, limit, stop, stop-limit, market-if-touched, trailing-stop or one-cancels-other", t)
		}
	}
	if t := strings.TrimSpace(ev.TimeInForce); t != "" {
		if o.TimeInForce, err = lookupWord("time_in_force", t, timesInForce, "day, gtc, ioc, fok, gtd, moc or opg"); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *Order) parseQuantities(ev OrderEvent) error {
	a := &o.Attrs
	qty, err := number("quantity", ev.Quantity, true, false)
	if err != nil {
		return err
	}
	if qty <= 0 {
		return store.Invalid("quantity", "%s must be more than 0 contracts", fmtNum(qty))
	}
	a.Quantity = qty
	if a.Filled, err = number("cum_qty", ev.CumQty, false, false); err != nil {
		return err
	}
	if a.Filled > qty {
		return store.Invalid("cum_qty", "%s is more than the order quantity %s", fmtNum(a.Filled), fmtNum(qty))
	}
	if o.AvgPx, err = number("avg_px", ev.AvgPx, false, true); err != nil {
		return err
	}
	price, err := number("price", ev.Price, false, true)
	if err != nil {
		return err
	}
	a.Price = price
	if !o.IsFill() {
		return nil
	}
	// A fill is counted in the statistics by what this execution filled, so
	// it needs its own quantity and price, not only the order's totals.
	if o.LastQty, err = number("last_qty", ev.LastQty, true, false); err != nil {
		return err
	}
	if o.LastQty <= 0 || o.LastQty > qty {
		return store.Invalid("last_qty", "%s must be more than 0 and at most the order quantity %s", fmtNum(o.LastQty), fmtNum(qty))
	}
	// Prices may be zero or negative (calendar spreads; WTI in April 2020).
	if o.LastPx, err = number("last_px", ev.LastPx, true, true); err != nil {
		return err
	}
	a.Price = o.LastPx
	return nil
}

// number reads an optional numeric field; required makes absence an error,
// signed allows negative values.
func number(field string, v *float64, required, signed bool) (float64, error) {
	if v == nil {
		if required {
			return 0, store.Invalid(field, "required")
		}
		return 0, nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) {
		return 0, store.Invalid(field, "must be a finite number")
	}
	if !signed && *v < 0 {
		return 0, store.Invalid(field, "%s must not be negative", fmtNum(*v))
	}
	return *v, nil
}

// wordSeparators are spelled as underscores in the tables lookupWord reads.
var wordSeparators = strings.NewReplacer(" ", "_", "-", "_")

func lookupWord(field, v string, words map[string]string, want string) (string, error) {
	k := wordSeparators.Replace(strings.ToLower(strings.TrimSpace(v)))
	if w, ok := words[k]; ok {
		return w, nil
	}
	if k == "" {
		return "", store.Invalid(field, "required: %s", want)
	}
	return "", store.Invalid(field, "%q is not %s", v, want)
}

// IsFill reports whether the event is an execution that counts in the
// client's trading statistics.
func (o *Order) IsFill() bool {
	return o.Attrs.Status == StatusFilled || o.Attrs.Status == StatusPartiallyFilled
}

// Event returns the timeline event of the order for client c.
func (o *Order) Event(c *store.Client) *store.Event {
	attrs := o.Attrs
	extra := map[string]string{}
	if o.TimeInForce != "" {
		extra["time_in_force"] = o.TimeInForce
	}
	if o.IsFill() {
		extra["last_qty"] = fmtNum(o.LastQty)
	}
	if o.AvgPx != 0 {
		extra["avg_px"] = fmtNum(o.AvgPx)
	}
	if ex := o.Instrument.Commodity.Exchange; ex != "" {
		extra["exchange"] = ex
	}
	if len(extra) == 0 {
		extra = nil
	}
	return &store.Event{
		ID:       store.EventID(store.SourceOrders, o.SourceID),
		ClientID: c.ID,
		Time:     o.Time,
		Kind:     store.KindOrder,
		Source:   store.SourceOrders,
		SourceID: o.SourceID,
		Actor:    c.Handle,
		Summary:  o.Summary(),
		Body:     o.Attrs.Notes,
		Attrs:    store.Attrs{Order: &attrs, Extra: extra},
	}
}

// Fill returns what the event adds to client c's trading statistics, or nil
// when it is not an execution.
func (o *Order) Fill(c *store.Client) *store.Fill {
	if !o.IsFill() {
		return nil
	}
	return &store.Fill{
		EventID:   store.EventID(store.SourceOrders, o.SourceID),
		ClientID:  c.ID,
		At:        o.Time.UTC().Truncate(time.Millisecond), // as the timeline keeps it
		Commodity: o.Instrument.Commodity.Key,
		Contract:  o.Instrument.Contract.Code,
		Side:      o.Attrs.Side,
		Quantity:  o.LastQty,
		Price:     o.LastPx,
	}
}

// Summary is the line a broker reads on the timeline, e.g.
// "Filled buy 10 ZCZ6 (Dec 2026 corn) @ 452.25".
func (o *Order) Summary() string {
	a := o.Attrs
	what := o.Instrument.String()
	switch a.Status {
	case StatusPlaced:
		s := fmt.Sprintf("Placed %s %s %s", a.Side, fmtNum(a.Quantity), what)
		switch {
		case a.OrderType == string(store.Market):
			s += " at market"
		case a.OrderType != "" && a.Price != 0:
			s += fmt.Sprintf(", %s %s", a.OrderType, fmtNum(a.Price))
		case a.OrderType != "":
			s += ", " + a.OrderType
		case a.Price != 0:
			s += " @ " + fmtNum(a.Price)
		}
		if o.TimeInForce != "" && o.TimeInForce != "day" {
			s += " " + strings.ToUpper(o.TimeInForce)
		}
		return s
	case StatusPartiallyFilled:
		s := fmt.Sprintf("Partially filled %s %s %s @ %s", a.Side, fmtNum(o.LastQty), what, fmtNum(o.LastPx))
		if a.Filled > 0 {
			s += fmt.Sprintf(", %s of %s filled", fmtNum(a.Filled), fmtNum(a.Quantity))
		}
		return s
	case StatusFilled:
		if o.LastQty == a.Quantity {
			return fmt.Sprintf("Filled %s %s %s @ %s", a.Side, fmtNum(a.Quantity), what, fmtNum(o.LastPx))
		}
		s := fmt.Sprintf("Filled %s %s %s @ %s, order of %s complete", a.Side, fmtNum(o.LastQty), what, fmtNum(o.LastPx), fmtNum(a.Quantity))
		if o.AvgPx != 0 {
			s += " (avg " + fmtNum(o.AvgPx) + ")"
		}
		return s
	case StatusCancelled:
		s := fmt.Sprintf("Cancelled %s %s %s", a.Side, fmtNum(a.Quantity), what)
		if a.Filled > 0 {
			s += fmt.Sprintf(", %s filled", fmtNum(a.Filled))
		}
		return s
	default:
		return fmt.Sprintf("Rejected %s %s %s", a.Side, fmtNum(a.Quantity), what)
	}
}

// ParseEventTime reads a time as order and call systems write it: RFC 3339
// with a zone, or FIX UTCTimestamp (YYYYMMDD-HH:MM:SS[.sss], always UTC).
// It must not lie more than an hour after now.
func ParseEventTime(field, v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, store.Invalid(field, "required: RFC 3339 such as 2026-11-30T14:30:00Z")
	}
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "20060102-15:04:05.999999999", "20060102-15:04:05"} {
		if t, err = time.Parse(layout, v); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, store.Invalid(field, "%q is not a time: use RFC 3339 such as 2026-11-30T14:30:00Z", v)
	}
	if !now.IsZero() && t.After(now.Add(maxFuture)) {
		return time.Time{}, store.Invalid(field, "%s is in the future", t.UTC().Format(time.RFC3339))
	}
	if t.Year() < 1970 {
		return time.Time{}, store.Invalid(field, "%q is before 1970", v)
	}
	return t.UTC(), nil
}

// fmtNum writes a quantity or price the way a broker would: no exponent, no
// trailing zeros.
func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
