package runtime

// This file holds what the compile step checks against Alloy's reference
// rather than shoal's registry: top-level blocks shoal cannot honour,
// arguments of the logging and http blocks it cannot honour, components out
// of its scope or not implemented yet, and stability levels. Each refusal
// says why; nothing is accepted and ignored.

import (
	"fmt"

	"github.com/shoal-dev/shoal/internal/alloycatalog"
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// refusedBlocks are the top-level blocks of Alloy's reference that shoal
// cannot honour, with the reason.
var refusedBlocks = map[string]string{
	"tracing": "shoal has no traces pipeline: it does not trace itself and has no otelcol trace exporters to send spans to. " +
		"Remove the block, or keep tracing in the Alloy that runs your traces (see " + alloycatalog.Doc + ")",
	"remotecfg": "shoal does not fetch its configuration from a remote configuration (Fleet Management) server: " +
		"every node runs the local file, which the fleet shares and reloads on SIGHUP or /-/reload",
	"foreach": "shoal does not implement foreach yet: write one block per item, or generate them with a declare'd component",
}

// refuseBlock reports a top-level block shoal refuses and returns true, or
// returns false to let collectBlock handle it.
func (c *compiler) refuseBlock(b *ast.BlockStmt, name string, nameEnd token.Pos) bool {
	why, refused := refusedBlocks[name]
	if !refused {
		return false
	}
	if e, ok := alloycatalog.Block(name); ok {
		if err := stability.Check(c.level, e.Stability, fmt.Sprintf("block %q", name)); err != nil {
			c.errorf(b.NamePos, nameEnd, "%v", err)
			return true
		}
	}
	c.errorf(b.NamePos, nameEnd, "block %q is not supported: %s", name, why)
	return true
}

// unknownComponent explains why name is not a component shoal can run: it
// handles logs, traces or profiles (out of scope), it is an Alloy component
// shoal does not have yet, or it is no Alloy component at all.
func (c *compiler) unknownComponent(name string) string {
	if why, out := c.reg.LeftOut(name); out {
		return fmt.Sprintf("component %q is not in this build of shoal: %s", name, why)
	}
	if why, out := alloycatalog.OutOfScope(name); out {
		return fmt.Sprintf("component %q is out of scope: shoal is a metrics agent and does not handle %s; "+
			"run it in Grafana Alloy and keep the metrics pipeline in shoal (see %s)", name, why, alloycatalog.Doc)
	}
	if e, ok := alloycatalog.Component(name); ok {
		msg := fmt.Sprintf("component %q is not yet implemented in shoal (see %s for the list and what to do meanwhile)", name, alloycatalog.Doc)
		if err := stability.Check(c.level, e.Stability, ""); err != nil {
			msg += fmt.Sprintf("; in Alloy it is %s and also needs --stability.level=%s", e.Stability, e.Stability)
		}
		if e.Community {
			msg += "; in Alloy it is a community component and also needs --feature.community-components.enabled"
		}
		return msg
	}
	msg := fmt.Sprintf("unknown component %q", name)
	if s := suggest(name, c.reg.Names()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if s := suggest(name, alloycatalog.ComponentNames()); s != "" {
		msg += fmt.Sprintf("; did you mean Alloy's %q?", s)
	}
	return msg
}

// componentAllowed checks a registered component against
// --stability.level and --feature.community-components.enabled.
func (c *compiler) componentAllowed(reg component.Registration) error {
	if reg.Community && !c.community {
		return fmt.Errorf("component %q is a community component; run with --feature.community-components.enabled to use it", reg.Name)
	}
	return stability.Check(c.level, reg.Stability, fmt.Sprintf("component %q", reg.Name))
}

// refusedArguments are arguments of Alloy's logging and http blocks that
// shoal cannot honour, by block and path, with the reason. Other arguments
// shoal lacks are refused by the decoder as unknown.
var refusedArguments = map[string]map[string]string{
	blockLogging: {
		"write_to": "shoal writes its own logs to stderr only: teeing them to loki.* receivers needs a logs pipeline, which is out of scope (see " + alloycatalog.Doc + ")",
	},
	blockHTTP: {
		"tls.windows_certificate_filter": "shoal reads its server certificate from PEM text or files only, not from the Windows certificate store",
	},
}

// refuseArguments reports the statements of a global block that shoal
// refuses and returns a copy of the block without them, so that the decoder
// does not report them a second time as unknown.
func (c *compiler) refuseArguments(name string, b *ast.BlockStmt) *ast.BlockStmt {
	refused := refusedArguments[name]
	if len(refused) == 0 {
		return b
	}
	return c.without(b, "", name, refused)
}

func (c *compiler) without(b *ast.BlockStmt, prefix, blockName string, refused map[string]string) *ast.BlockStmt {
	var kept ast.Body
	changed := false
	for _, stmt := range b.Body {
		var key string
		var start token.Pos
		var nested *ast.BlockStmt
		switch s := stmt.(type) {
		case *ast.AttributeStmt:
			key, start = s.Name.Name, s.Name.NamePos
		case *ast.BlockStmt:
			key, start, nested = s.GetBlockName(), s.NamePos, s
		}
		path := prefix + key
		if why, ok := refused[path]; ok {
			c.errorf(start, start.Add(len(key)-1), "%s: %q is not supported: %s", blockName, path, why)
			changed = true
			continue
		}
		if nested != nil {
			if nb := c.without(nested, path+".", blockName, refused); nb != nested {
				stmt, changed = nb, true
			}
		}
		kept = append(kept, stmt)
	}
	if !changed {
		return b
	}
	cp := *b
	cp.Body = kept
	return &cp
}
