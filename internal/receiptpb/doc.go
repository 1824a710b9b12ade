// Package receiptpb converts between the API's messages and package
// receipt: a contact and a result as a receipt digests them (the one
// conversion the server, the offline verifier and the call-list tool
// share), and a receipt to and from its ScreeningReceipt message.
package receiptpb
