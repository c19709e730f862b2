// Package fix takes order events from a FIX 4.4 drop-copy session: BrokerSync
// initiates the session to the order system's acceptor, and every
// ExecutionReport (35=8) becomes the same order event the order webhook
// takes, stored through the same ingest.Intake, once per ExecID.
package fix

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/quickfixgo/quickfix"

	"github.com/brokersync/brokersync/ingest"
	"github.com/brokersync/brokersync/store"
)

// FIX 4.4 tags read from an ExecutionReport.
const (
	tagAccount           quickfix.Tag = 1
	tagAvgPx             quickfix.Tag = 6
	tagClOrdID           quickfix.Tag = 11
	tagCumQty            quickfix.Tag = 14
	tagCurrency          quickfix.Tag = 15
	tagExecID            quickfix.Tag = 17
	tagExecRefID         quickfix.Tag = 19
	tagLastPx            quickfix.Tag = 31
	tagLastQty           quickfix.Tag = 32
	tagMsgSeqNum         quickfix.Tag = 34
	tagMsgType           quickfix.Tag = 35
	tagOrderID           quickfix.Tag = 37
	tagOrderQty          quickfix.Tag = 38
	tagOrdStatus         quickfix.Tag = 39
	tagOrdType           quickfix.Tag = 40
	tagOrigClOrdID       quickfix.Tag = 41
	tagPossDupFlag       quickfix.Tag = 43
	tagPrice             quickfix.Tag = 44
	tagSecurityID        quickfix.Tag = 48
	tagSendingTime       quickfix.Tag = 52
	tagSide              quickfix.Tag = 54
	tagSymbol            quickfix.Tag = 55
	tagText              quickfix.Tag = 58
	tagTimeInForce       quickfix.Tag = 59
	tagTransactTime      quickfix.Tag = 60
	tagExecType          quickfix.Tag = 150
	tagMaturityMonthYear quickfix.Tag = 200
	tagSecurityExchange  quickfix.Tag = 207
	tagUsername          quickfix.Tag = 553
	tagPassword          quickfix.Tag = 554
)

// Kind says what an ExecutionReport is to BrokerSync.
type Kind string

// Kinds of ExecutionReport.
const (
	KindNew     Kind = "new"
	KindFill    Kind = "fill" // partial or full: counted in the trading statistics
	KindCancel  Kind = "cancel"
	KindExpired Kind = "expired"
	KindReject  Kind = "reject"
	KindReplace Kind = "replace"
	KindBust    Kind = "bust"  // ExecType H: a trade cancelled by the order system
	KindSkipped Kind = "other" // pending, status and restatement reports: not an order event
)

// ordTypes maps FIX OrdType 40 to the order types the timeline knows.
var ordTypes = map[string]string{
	"1": "market", "2": "limit", "3": "stop", "4": "stop-limit", "J": "market-if-touched",
}

// sides maps FIX Side 54: a short sale is a sale.
var sides = map[string]string{"1": "buy", "2": "sell", "5": "sell", "6": "sell"}

// Report converts an ExecutionReport into an order event. Reports that are
// not order events (pending new, pending cancel, order status, restated,
// trade correction) return KindSkipped and no event. An error is EINVALID
// and names the FIX field.
func Report(msg *quickfix.Message) (ingest.OrderEvent, Kind, error) {
	get := func(t quickfix.Tag) string {
		v, _ := msg.Body.GetString(t)
		return strings.TrimSpace(v)
	}
	var ev ingest.OrderEvent
	execType, ordStatus := get(tagExecType), get(tagOrdStatus)
	var kind Kind
	var notes []string
	switch execType {
	case "0":
		kind, ev.Status = KindNew, ingest.StatusPlaced
	case "F", "1", "2": // 1 and 2 are FIX 4.2's partial fill and fill
		kind, ev.Status = KindFill, ingest.StatusPartiallyFilled
		if ordStatus == "2" || execType == "2" {
			ev.Status = ingest.StatusFilled
		}
	case "4":
		kind, ev.Status = KindCancel, ingest.StatusCancelled
	case "C":
		kind, ev.Status = KindExpired, ingest.StatusCancelled
		notes = append(notes, "Expired.")
	case "8":
		kind, ev.Status = KindReject, ingest.StatusRejected
	case "5":
		// The order stands with new terms; a partially filled order keeps
		// its fills, which were counted when they happened.
		kind, ev.Status = KindReplace, ingest.StatusPlaced
		n := "Replaced"
		if o := get(tagOrigClOrdID); o != "" {
			n += " (was ClOrdID " + o + ")"
		}
		notes = append(notes, n+".")
	case "H":
		// Recorded as its own event (its own ExecID) that is not a fill.
		// The trading statistics cannot take a fill back: the busted
		// execution stays counted there (see README).
		kind, ev.Status = KindBust, ingest.StatusCancelled
		n := "Trade bust"
		if r := get(tagExecRefID); r != "" {
			n += ": execution " + r + " cancelled by the order system"
		}
		notes = append(notes, n+".")
	case "":
		return ev, "", store.Invalid("ExecType (150)", "required")
	default:
		return ev, KindSkipped, nil
	}
	ev.ExecID = get(tagExecID)
	if ev.ExecID == "" {
		return ev, kind, store.Invalid("ExecID (17)", "required: it is the report's unique id")
	}
	ev.ID = ev.ExecID
	ev.OrderID = get(tagOrderID)
	if ev.OrderID == "" {
		ev.OrderID = get(tagClOrdID)
	}
	ev.Client = get(tagAccount)
	if ev.Client == "" {
		return ev, kind, store.Invalid("Account (1)", "required: the account number that finds the client")
	}
	side := get(tagSide)
	if ev.Side = sides[side]; ev.Side == "" {
		return ev, kind, store.Invalid("Side (54)", "%q is not 1 (buy), 2 (sell), 5 or 6 (sell short)", side)
	}
	var err error
	if ev.Contract, err = contract(get(tagSymbol), get(tagSecurityID), get(tagMaturityMonthYear)); err != nil {
		return ev, kind, err
	}
	ev.Exchange = get(tagSecurityExchange)
	for _, f := range []struct {
		tag  quickfix.Tag
		name string
		dst  **float64
	}{
		{tagOrderQty, "OrderQty (38)", &ev.Quantity},
		{tagCumQty, "CumQty (14)", &ev.CumQty},
		{tagLastQty, "LastQty (32)", &ev.LastQty},
		{tagLastPx, "LastPx (31)", &ev.LastPx},
		{tagAvgPx, "AvgPx (6)", &ev.AvgPx},
		{tagPrice, "Price (44)", &ev.Price},
	} {
		s := get(f.tag)
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return ev, kind, store.Invalid(f.name, "%q is not a number", s)
		}
		*f.dst = &v
	}
	if kind != KindFill {
		// Only a trade carries an execution's quantity and price; a
		// cancel or bust repeating them must not look like a fill.
		ev.LastQty, ev.LastPx = nil, nil
	}
	ev.Currency = get(tagCurrency)
	ev.OrderType = ordTypes[get(tagOrdType)]
	ev.TimeInForce = get(tagTimeInForce)
	if ev.Time = get(tagTransactTime); ev.Time == "" {
		ev.Time, _ = msg.Header.GetString(tagSendingTime)
	}
	if t := get(tagText); t != "" {
		notes = append(notes, t)
	}
	ev.Notes = strings.Join(notes, " ")
	return ev, kind, nil
}

// contract builds the contract code from Symbol 55 (or SecurityID 48) and
// MaturityMonthYear 200: ZC with 202612 is ZCZ26. A symbol that already
// names its month (ZCZ6) is taken as it is.
func contract(symbol, securityID, mmy string) (string, error) {
	if symbol == "" {
		symbol = securityID
	}
	if symbol == "" {
		return "", store.Invalid("Symbol (55)", "required (or SecurityID 48)")
	}
	if mmy == "" {
		return symbol, nil
	}
	if len(mmy) < 6 {
		return "", store.Invalid("MaturityMonthYear (200)", "%q is not YYYYMM", mmy)
	}
	year, err1 := strconv.Atoi(mmy[:4])
	month, err2 := strconv.Atoi(mmy[4:6])
	if err1 != nil || err2 != nil || month < 1 || month > 12 {
		return "", store.Invalid("MaturityMonthYear (200)", "%q is not YYYYMM", mmy)
	}
	return fmt.Sprintf("%s%c%02d", symbol, store.MonthCodes[month-1], year%100), nil
}
