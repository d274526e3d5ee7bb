package notify

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	bgaws "github.com/bluegreen/bluegreen/internal/aws"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// SNS limits that Publish enforces; an event is cut to fit rather than
// rejected, since a notification that arrives shortened beats none.
const (
	MaxSNSSubject = 100
	MaxSNSMessage = 256 * 1024
)

// SNS publishes each event to an Amazon SNS topic: a short Subject (the
// e-mail subject line of e-mail subscribers), the event's Text as Message,
// and the message attributes kind, app, namespace and run, so that
// subscribers can filter (an SQS queue of one team's apps, a Lambda that
// only wants failures) with subscription filter policies instead of
// parsing text. Retries are the SDK client's own.
type SNS struct {
	// TopicARN is where events go, e.g.
	// arn:aws:sns:us-east-1:123456789012:releases.
	TopicARN string
	// Client publishes; *sns.Client satisfies it.
	Client bgaws.SNS
	// Secrets, if set, are hidden from the subject, message and errors.
	Secrets *redact.Secrets
}

// Notify publishes e to the topic.
func (s *SNS) Notify(ctx context.Context, e Event) error {
	if s.Client == nil || s.TopicARN == "" {
		return fmt.Errorf("sns notify %s: no topic or client; set the SNS topic ARN", e.Kind)
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(s.TopicARN),
		Subject:           aws.String(s.subject(e)),
		Message:           aws.String(truncate(hideSecrets(s.Secrets, nil, e.Text()), MaxSNSMessage)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{},
	}
	for _, kv := range [][2]string{{"kind", e.Kind}, {"app", e.App}, {"namespace", e.Namespace}, {"run", e.Run}} {
		// SNS rejects empty attribute values; a missing one is left out.
		if v := hideSecrets(s.Secrets, nil, kv[1]); v != "" {
			in.MessageAttributes[kv[0]] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if _, err := s.Client.Publish(ctx, in); err != nil {
		return fmt.Errorf("sns notify %s: publish to %s: %s", e.Kind, s.TopicARN, hideSecrets(s.Secrets, nil, err.Error()))
	}
	return nil
}

// subject is a one-line, printable-ASCII summary of at most MaxSNSSubject
// characters, as SNS requires of subjects.
func (s *SNS) subject(e Event) string {
	app := e.App
	if app == "" {
		app = "release"
	}
	subj := "bluegreen: " + app + " " + e.phrase()
	if e.Namespace != "" {
		subj += " in " + e.Namespace
	}
	subj = strings.Map(func(r rune) rune {
		if r == '→' {
			return '>'
		}
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, hideSecrets(s.Secrets, nil, subj))
	return truncate(subj, MaxSNSSubject)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// topicName is SNS's rule for topic names: 1 to 256 letters, digits,
// hyphens and underscores, with a .fifo suffix for FIFO topics. Checked by
// hand: the regular expression's {1,256} compiled into thousands of
// instructions at every start of the program, used or not.
func topicName(s string) bool {
	s = strings.TrimSuffix(s, ".fifo")
	return len(s) >= 1 && len(s) <= 256 && strings.IndexFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_'
	}) < 0
}

// accountID is an AWS account ID: 12 digits.
func accountID(s string) bool {
	return len(s) == 12 && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// TopicRegion checks that topicARN is an SNS topic ARN, like
// arn:aws:sns:us-east-1:123456789012:releases, and returns its region,
// which the SNS client must use.
func TopicRegion(topicARN string) (string, error) {
	a, err := arn.Parse(topicARN)
	if err != nil {
		return "", fmt.Errorf("sns topic %q is not an ARN; want arn:aws:sns:<region>:<account>:<topic>", topicARN)
	}
	switch {
	case a.Service != "sns":
		return "", fmt.Errorf("arn %q is not an sns topic (service %q); want arn:aws:sns:<region>:<account>:<topic>", topicARN, a.Service)
	case a.Region == "":
		return "", fmt.Errorf("sns topic %q has no region; want arn:aws:sns:<region>:<account>:<topic>", topicARN)
	case !accountID(a.AccountID):
		return "", fmt.Errorf("sns topic %q: account %q is not 12 digits; want arn:aws:sns:<region>:<account>:<topic>", topicARN, a.AccountID)
	case !topicName(a.Resource):
		return "", fmt.Errorf("sns topic %q: name %q is not a topic name (letters, digits, - and _, up to 256)", topicARN, a.Resource)
	}
	return a.Region, nil
}
