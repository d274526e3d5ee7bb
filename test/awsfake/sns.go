package awsfake

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the SNS query API subset release notifications use:
// CreateTopic to set a test up and Publish, which records each message so
// tests can read what subscribers would get.

const (
	snsAPIVersion = "2010-03-31"
	snsNamespace  = "http://sns.amazonaws.com/doc/2010-03-31/"
	// snsMaxMessage is SNS's limit on a message's size, attributes included.
	snsMaxMessage = 256 * 1024
	snsMaxSubject = 100
)

// SNSMessage is one message published to a topic.
type SNSMessage struct {
	MessageID string
	TopicARN  string
	Subject   string
	Message   string
	// Attributes maps a message attribute's name to its value.
	Attributes map[string]SNSAttribute
}

// SNSAttribute is a message attribute's type and value.
type SNSAttribute struct {
	DataType    string
	StringValue string
}

type snsState struct {
	topics map[string][]SNSMessage // topic ARN -> published messages
}

func (n *snsState) init() { n.topics = map[string][]SNSMessage{} }

var snsTopicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// AddTopic creates the SNS topic name in region (us-east-1 if empty) and
// returns its ARN, arn:aws:sns:<region>:<account>:<name>. Adding it again
// keeps its messages.
func (s *Server) AddTopic(region, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTopic(region, name)
}

func (s *Server) addTopic(region, name string) string {
	if region == "" {
		region = "us-east-1"
	}
	arn := "arn:aws:sns:" + region + ":" + s.opts.AccountID + ":" + name
	if _, ok := s.sns.topics[arn]; !ok {
		s.sns.topics[arn] = []SNSMessage{}
	}
	return arn
}

// Published returns the messages published to topicARN, oldest first.
func (s *Server) Published(topicARN string) []SNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sns.topics[topicARN])
}

// snsHandlers answers SNS actions; region comes from the request's
// signature, as AWS answers in the region the client signed for.
func (s *Server) snsHandlers(region string) map[string]queryHandler {
	return map[string]queryHandler{
		"CreateTopic": func(f url.Values) (any, *queryError) { return s.snsCreateTopic(region, f) },
		"Publish":     s.snsPublish,
	}
}

type createTopicResult struct {
	TopicARN string `xml:"TopicArn"`
}

type publishResult struct {
	MessageID string `xml:"MessageId"`
}

func (s *Server) snsCreateTopic(region string, f url.Values) (any, *queryError) {
	name := f.Get("Name")
	if !snsTopicName.MatchString(name) {
		return nil, queryErrf(http.StatusBadRequest, "InvalidParameter",
			"Invalid parameter: Topic Name")
	}
	return &createTopicResult{TopicARN: s.addTopic(region, name)}, nil
}

func (s *Server) snsPublish(f url.Values) (any, *queryError) {
	arn := f.Get("TopicArn")
	if arn == "" {
		return nil, queryErrf(http.StatusBadRequest, "InvalidParameter",
			"Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	msgs, ok := s.sns.topics[arn]
	if !ok {
		return nil, queryErrf(http.StatusNotFound, "NotFound", "Topic does not exist")
	}
	m := SNSMessage{MessageID: newRequestID(), TopicARN: arn, Subject: f.Get("Subject"), Message: f.Get("Message")}
	if m.Message == "" {
		return nil, queryErrf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Empty message")
	}
	if _, set := f["Subject"]; set {
		if m.Subject == "" || utf8.RuneCountInString(m.Subject) > snsMaxSubject || strings.ContainsAny(m.Subject, "\r\n") {
			return nil, queryErrf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Subject")
		}
	}
	attrs, size, qerr := snsAttributes(f)
	if qerr != nil {
		return nil, qerr
	}
	if len(m.Message)+size > snsMaxMessage {
		return nil, queryErrf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Message too long")
	}
	m.Attributes = attrs
	s.sns.topics[arn] = append(msgs, m)
	return &publishResult{MessageID: m.MessageID}, nil
}

// snsAttributes reads MessageAttributes.entry.N.{Name,Value.DataType,
// Value.StringValue} and returns them with their size, which counts
// towards the message size limit.
func snsAttributes(f url.Values) (map[string]SNSAttribute, int, *queryError) {
	attrs := map[string]SNSAttribute{}
	size := 0
	for i := 1; ; i++ {
		p := "MessageAttributes.entry." + strconv.Itoa(i) + "."
		name, ok := f[p+"Name"]
		if !ok {
			break
		}
		a := SNSAttribute{DataType: f.Get(p + "Value.DataType"), StringValue: f.Get(p + "Value.StringValue")}
		switch {
		case name[0] == "":
			return nil, 0, queryErrf(http.StatusBadRequest, "ParameterValueInvalid", "The message attribute name must not be empty.")
		case a.DataType == "":
			return nil, 0, queryErrf(http.StatusBadRequest, "ParameterValueInvalid",
				"The message attribute '%s' must contain non-empty message attribute type.", name[0])
		case !slices.Contains([]string{"String", "Number", "Binary"}, strings.SplitN(a.DataType, ".", 2)[0]):
			return nil, 0, queryErrf(http.StatusBadRequest, "ParameterValueInvalid",
				"The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name[0])
		case a.StringValue == "" && f.Get(p+"Value.BinaryValue") == "":
			return nil, 0, queryErrf(http.StatusBadRequest, "ParameterValueInvalid",
				"The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name[0], a.DataType)
		}
		attrs[name[0]] = a
		size += len(name[0]) + len(a.DataType) + len(a.StringValue)
	}
	return attrs, size, nil
}
