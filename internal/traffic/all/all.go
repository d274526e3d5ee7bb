// Package all registers every traffic router. It is the one place that
// names the router packages: a program imports it for its side effects, and
// everything else reaches a router through the traffic registry.
package all

import (
	// Each router registers itself with the traffic registry from init.
	_ "github.com/bluegreen/bluegreen/internal/traffic/externaldns"
	_ "github.com/bluegreen/bluegreen/internal/traffic/gatewayapi"
	_ "github.com/bluegreen/bluegreen/internal/traffic/nginx"
	_ "github.com/bluegreen/bluegreen/internal/traffic/route53"
	_ "github.com/bluegreen/bluegreen/internal/traffic/selector"
)
