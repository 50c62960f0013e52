package doukecsj

import (
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DecodePage decodes one csj_ordersearch answer: veapi's envelope
// (douke.DecodePaging: a non-"0" error code is a *douke.APIError wrapping
// vendors.ErrVendorError), then each element of data.orders (null is the
// zero Order, anything else must be an object). Errors of the page wrap
// vendors.ErrMalformedPage; orders that do not decode come back as a
// *wire.ListError keeping the others.
func DecodePage(body []byte) (*Page, error) {
	env, orders, err := douke.DecodePaging(body)
	if err != nil {
		return nil, err
	}
	p := &Page{Msg: env.Msg, RequestID: env.RequestID, Cursor: env.Cursor}
	if orders == nil {
		return p, nil
	}
	if p.Orders, err = wire.DecodeList("data.orders", orders, decodeOrder); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeOrder(raw []byte) (Order, error) {
	if wire.IsNull(raw) {
		return Order{}, nil
	}
	return wire.DecodeObject[Order](raw)
}
