using System.Text;

namespace Amphora.Ruler.Templates;

/// <summary>A template that failed while it ran, with Go's text: <c>template: NAME:LINE:COL: executing "NAME" at &lt;CTX&gt;: MSG</c>.</summary>
public sealed class TemplateExecutionException(string message) : Exception(message);

/// <summary>A function's own failure; the executor reports it as <c>error calling NAME: MSG</c>.</summary>
internal sealed class TemplateFunctionException(string message) : Exception(message);

/// <summary>
/// Runs a parsed template over its data: Go text/template's semantics for pipelines, variables and their scopes, fields
/// of maps and of Prometheus's template types, truth, <c>if</c>/<c>range</c>/<c>with</c>/<c>else</c>, <c>break</c>/<c>continue</c>,
/// <c>template</c>, and a missing map key as the zero value (Prometheus's <c>missingkey=zero</c>). Not thread-safe; one per run.
/// </summary>
internal sealed class TemplateExecutor(string name, string text, Dictionary<string, ListNode> defines, TemplateFunctions functions)
{
    private readonly StringBuilder _out = new();
    private readonly List<(string Name, object? Value)> _vars = new();
    private int _depth;

    private sealed class BreakSignal : Exception;
    private sealed class ContinueSignal : Exception;

    public async Task<string> RunAsync(ListNode root, object? data, CancellationToken ct)
    {
        _vars.Add(("$", data));
        await WalkAsync(data, root, ct);
        return _out.ToString();
    }

    private TemplateExecutionException Fail(Node node, string context, string message)
    {
        int line = 1, lastNewline = -1;
        for (int i = 0; i < node.Pos && i < text.Length; i++)
            if (text[i] == '\n') { line++; lastNewline = i; }
        int col = lastNewline < 0 ? node.Pos : node.Pos - lastNewline - 1;
        return new TemplateExecutionException($"template: {name}:{line}:{col}: executing \"{name}\" at <{context}>: {message}");
    }

    private async Task WalkAsync(object? dot, Node node, CancellationToken ct)
    {
        switch (node)
        {
            case TextNode t:
                _out.Append(t.Text);
                break;
            case ListNode l:
                foreach (var n in l.Nodes) await WalkAsync(dot, n, ct);
                break;
            case ActionNode a:
            {
                var v = await EvalPipeAsync(dot, a.Pipe, ct);
                if (a.Pipe.Vars.Count == 0) _out.Append(v is null ? "<no value>" : GoValues.Print(v));
                break;
            }
            case BranchNode b:
                await BranchAsync(dot, b, ct);
                break;
            case TemplateCallNode call:
            {
                if (!defines.TryGetValue(call.Name, out var body)) throw Fail(call, "template " + GoValues.Quote(call.Name), $"template \"{call.Name}\" not defined");
                if (++_depth > 100) throw Fail(call, "template " + GoValues.Quote(call.Name), "exceeded maximum template depth (100)");
                object? data = call.Pipe is null ? null : await EvalPipeAsync(dot, call.Pipe, ct);
                var saved = _vars.ToList();
                _vars.Clear();
                _vars.Add(("$", data));
                await WalkAsync(data, body, ct);
                _vars.Clear();
                _vars.AddRange(saved);
                _depth--;
                break;
            }
            case BreakNode:
                throw new BreakSignal();
            case ContinueNode:
                throw new ContinueSignal();
        }
    }

    private async Task BranchAsync(object? dot, BranchNode b, CancellationToken ct)
    {
        int mark = _vars.Count;
        var value = await EvalPipeAsync(dot, b.Pipe, ct);
        try
        {
            if (b.Kind == BranchKind.Range)
            {
                await RangeAsync(dot, b, value, ct);
                return;
            }
            bool truth = GoValues.IsTrue(value);
            if (truth) await WalkAsync(b.Kind == BranchKind.With ? value : dot, b.List, ct);
            else if (b.Else is not null) await WalkAsync(dot, b.Else, ct);
        }
        finally
        {
            _vars.RemoveRange(mark, _vars.Count - mark);
        }
    }

    private async Task RangeAsync(object? dot, BranchNode b, object? value, CancellationToken ct)
    {
        var items = new List<(object? Key, object? Value)>();
        switch (value)
        {
            case null: break;
            case IReadOnlyList<QuerySample> list:
                for (int i = 0; i < list.Count; i++) items.Add(((long)i, list[i]));
                break;
            case IReadOnlyDictionary<string, string> m:
                foreach (var kv in m.OrderBy(k => k.Key, StringComparer.Ordinal)) items.Add((kv.Key, kv.Value));
                break;
            case IReadOnlyDictionary<string, object?> m:
                foreach (var kv in m.OrderBy(k => k.Key, StringComparer.Ordinal)) items.Add((kv.Key, kv.Value));
                break;
            default:
                throw Fail(b.Pipe, b.Pipe.ToString(), $"range can't iterate over {GoValues.Print(value)}");
        }
        if (items.Count == 0)
        {
            if (b.Else is not null) await WalkAsync(dot, b.Else, ct);
            return;
        }
        int mark = _vars.Count;
        foreach (var (key, item) in items)
        {
            // The range's variables: one gets the element, two get key and element.
            if (b.Pipe.Vars.Count == 1) SetVar(b.Pipe.Vars[0], item, declare: false);
            else if (b.Pipe.Vars.Count >= 2) { SetVar(b.Pipe.Vars[0], key, declare: false); SetVar(b.Pipe.Vars[1], item, declare: false); }
            try
            {
                await WalkAsync(item, b.List, ct);
            }
            catch (BreakSignal) { break; }
            catch (ContinueSignal) { }
            finally
            {
                if (_vars.Count > mark) _vars.RemoveRange(mark, _vars.Count - mark);
            }
        }
    }

    private void SetVar(string varName, object? value, bool declare)
    {
        if (!declare)
            for (int i = _vars.Count - 1; i >= 0; i--)
                if (_vars[i].Name == varName) { _vars[i] = (varName, value); return; }
        _vars.Add((varName, value));
    }

    private async Task<object?> EvalPipeAsync(object? dot, PipeNode pipe, CancellationToken ct)
    {
        object? value = null;
        bool hasFinal = false;
        foreach (var cmd in pipe.Commands)
        {
            value = await EvalCommandAsync(dot, cmd, hasFinal, value, ct);
            hasFinal = true;
        }
        // In a range, the declared variables take the elements instead (RangeAsync sets them).
        foreach (var v in pipe.Vars) SetVar(v, value, declare: !pipe.Assign);
        return value;
    }

    private async Task<object?> EvalCommandAsync(object? dot, CommandNode cmd, bool hasFinal, object? final, CancellationToken ct)
    {
        var first = cmd.Args[0];
        if (first is IdentifierArg ident) return await CallAsync(dot, cmd, ident.Name, cmd.Args.Skip(1).ToList(), hasFinal, final, ct);
        if (cmd.Args.Count > 1 || hasFinal)
            throw Fail(cmd, cmd.ToString(), $"can't give argument to non-function {first}");
        return await EvalArgAsync(dot, first, cmd, ct);
    }

    private async Task<object?> EvalArgAsync(object? dot, ArgNode arg, CommandNode cmd, CancellationToken ct) => arg switch
    {
        FieldArg f => Fields(f, dot, f.Fields),
        VariableArg v => Fields(v, LookupVar(v), v.Fields),
        LiteralArg l => l.Value,
        IdentifierArg i => await CallAsync(dot, cmd, i.Name, [], false, null, ct),
        PipeArg p => Fields(p, await EvalPipeScopedAsync(dot, p.Pipe, ct), p.Fields),
        _ => null,
    };

    private async Task<object?> EvalPipeScopedAsync(object? dot, PipeNode pipe, CancellationToken ct)
    {
        int mark = _vars.Count;
        var v = await EvalPipeAsync(dot, pipe, ct);
        if (pipe.Vars.Count == 0 || pipe.Assign) _vars.RemoveRange(mark, _vars.Count - mark);
        return v;
    }

    private object? LookupVar(VariableArg v)
    {
        for (int i = _vars.Count - 1; i >= 0; i--)
            if (_vars[i].Name == v.Name) return _vars[i].Value;
        throw Fail(v, v.Name, $"undefined variable: {v.Name}");
    }

    private object? Fields(ArgNode node, object? value, string[] fields)
    {
        foreach (var field in fields)
        {
            value = value switch
            {
                IReadOnlyDictionary<string, string> m => m.TryGetValue(field, out var s) ? s : "",
                IReadOnlyDictionary<string, object?> m => m.TryGetValue(field, out var o) ? o : null,
                AlertTemplateData d => field switch
                {
                    "Labels" => GoValues.LabelMap(d.Metric),
                    "ExternalLabels" => new SortedDictionary<string, string>(StringComparer.Ordinal),
                    "ExternalURL" => functions.ExternalUrl.ToString().TrimEnd('/'),
                    "Value" => d.Value,
                    _ => throw Fail(node, node.ToString()!, $"can't evaluate field {field} in type {GoValues.TypeName(d)}"),
                },
                QuerySample s => field switch
                {
                    "Labels" => s.Labels,
                    "Value" => s.Value,
                    _ => throw Fail(node, node.ToString()!, $"can't evaluate field {field} in type *template.sample"),
                },
                null => throw Fail(node, node.ToString()!, $"nil pointer evaluating interface {{}}.{field}"),
                _ => throw Fail(node, node.ToString()!, $"can't evaluate field {field} in type {GoValues.TypeName(value)}"),
            };
        }
        return value;
    }

    private async Task<object?> CallAsync(object? dot, CommandNode cmd, string fn, List<ArgNode> argNodes, bool hasFinal, object? final, CancellationToken ct)
    {
        // and/or evaluate their operands only as far as needed (Go 1.18+).
        if (fn is "and" or "or")
        {
            var nodes = argNodes.Count;
            if (nodes + (hasFinal ? 1 : 0) < 1) throw Fail(cmd, cmd.ToString(), $"wrong number of args for {fn}: want at least 1 got 0");
            object? last = null;
            for (int i = 0; i < nodes + (hasFinal ? 1 : 0); i++)
            {
                last = i < nodes ? await EvalArgAsync(dot, argNodes[i], cmd, ct) : final;
                if (GoValues.IsTrue(last) != (fn == "and")) return last;
            }
            return last;
        }
        if (!functions.Has(fn)) throw Fail(cmd, cmd.ToString(), $"\"{fn}\" is not a defined function");
        var args = new List<object?>(argNodes.Count + 1);
        foreach (var a in argNodes) args.Add(await EvalArgAsync(dot, a, cmd, ct));
        if (hasFinal) args.Add(final);
        try
        {
            return await functions.CallAsync(fn, args, ct);
        }
        catch (TemplateFunctionException e)
        {
            throw Fail(cmd, cmd.ToString(), $"error calling {fn}: {e.Message}");
        }
        catch (TemplateArgumentException e)
        {
            throw Fail(cmd, cmd.ToString(), e.Message);
        }
    }
}

/// <summary>A call with the wrong number or types of operands (Go reports these without "error calling").</summary>
internal sealed class TemplateArgumentException(string message) : Exception(message);
