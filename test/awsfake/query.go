package awsfake

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// This file holds the AWS query protocol shared by EC2, IAM, ELBv2 and SNS: one
// form-encoded POST per call whose Version parameter names the service, and
// (for IAM, ELBv2 and SNS) the <ActionResponse><ActionResult> envelope and the
// <ErrorResponse> error body. EC2 has its own response shapes in ec2_wire.go.

// queryError is an error of a query-protocol service other than EC2.
type queryError struct {
	status         int
	code, msg, typ string // typ is "Sender" or "Receiver"
}

func (e *queryError) Error() string { return e.code + ": " + e.msg }

func queryErrf(status int, code, format string, args ...any) *queryError {
	return &queryError{status: status, code: code, msg: fmt.Sprintf(format, args...), typ: "Sender"}
}

// queryHandler answers one action of a query-protocol service; it runs
// with the server's mutex held and returns the content of the
// <ActionResult> element.
type queryHandler func(f url.Values) (any, *queryError)

// serveQuery parses the form once and hands it to the service its Version
// names.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	if r.Method != http.MethodPost {
		writeEC2Error(w, reqID, ec2Errf("InvalidAction", "unsupported method %s %s", r.Method, r.URL.Path))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeEC2Error(w, reqID, ec2Errf("InvalidParameterValue", "malformed form body: %v", err))
		return
	}
	f := r.PostForm
	switch v := f.Get("Version"); v {
	case ec2APIVersion:
		s.serveEC2(w, f, reqID)
	case iamAPIVersion:
		s.serveQueryService(w, f, reqID, iamNamespace, s.iamHandlers())
	case elbv2APIVersion:
		s.serveQueryService(w, f, reqID, elbv2Namespace, s.elbv2Handlers())
	case snsAPIVersion:
		s.serveQueryService(w, f, reqID, snsNamespace, s.snsHandlers(signedRegion(r)))
	default:
		writeQueryError(w, reqID, "", queryErrf(http.StatusBadRequest, "InvalidAction",
			"awsfake: no service speaks query-protocol Version %q (action %q)", v, f.Get("Action")))
	}
}

// signedRegion returns the region of a SigV4 Authorization header's
// credential scope (Credential=AKID/date/region/service/aws4_request), or
// "" if there is none.
func signedRegion(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[2]
	}
	return ""
}

func (s *Server) serveQueryService(w http.ResponseWriter, f url.Values, reqID, ns string, handlers map[string]queryHandler) {
	action := f.Get("Action")
	h, ok := handlers[action]
	if !ok {
		writeQueryError(w, reqID, ns, queryErrf(http.StatusBadRequest, "InvalidAction",
			"Could not find operation %s for version %s", action, f.Get("Version")))
		return
	}
	s.mu.Lock()
	out, apiErr := h(f)
	s.mu.Unlock()
	if apiErr != nil {
		writeQueryError(w, reqID, ns, apiErr)
		return
	}
	writeQueryResult(w, reqID, ns, action, out)
}

// writeQueryResult writes
// <ActionResponse xmlns=ns><ActionResult>out</ActionResult><ResponseMetadata>…
func writeQueryResult(w http.ResponseWriter, reqID, ns, action string, out any) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{reqID}
	err := enc.EncodeToken(root)
	if err == nil {
		err = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(root.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		http.Error(w, "awsfake: marshal response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, http.StatusOK, reqID, buf.Bytes())
}

type queryErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeQueryError(w http.ResponseWriter, reqID, ns string, e *queryError) {
	writeXML(w, e.status, reqID, &queryErrorResponse{Xmlns: ns, Type: e.typ, Code: e.code, Message: e.msg, RequestID: reqID})
}

func writeRaw(w http.ResponseWriter, status int, reqID string, body []byte) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
