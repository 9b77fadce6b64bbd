using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Judging;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Spectre.Console;
using TreeNode = Reasoner.Core.Trees.TreeNode;

namespace Reasoner.Cli.Commands;

/// <summary><c>show RUN</c>: the run's trees as a table, or one tree drawn node by node.</summary>
static class ShowCommand
{
    public static Command Create(CliContext context)
    {
        var run = new Argument<string>("run") { Description = "Run folder, or a run name under the runs folder (RunsDir)." };
        var problem = new Option<string?>("--problem", "-p") { Description = "Draw the tree of this problem id." };
        var index = new Option<int?>("--index", "-i") { Description = "Draw the tree at this position in the store (0-based, as in the table)." };
        var maxDepth = new Option<int>("--max-depth") { Description = "Draw nodes down to this depth only.", DefaultValueFactory = _ => 64 };
        var width = new Option<int>("--width") { Description = "Cut step text after this many characters.", DefaultValueFactory = _ => 90 };
        var command = new Command("show", "Print a stored run: without --problem or --index a table of its trees, otherwise one tree with every node's scores.")
        {
            run, problem, index, maxDepth, width,
        };
        command.SetAction(parse =>
        {
            var runDir = RunLocation.Resolve(parse.GetValue(run)!, context.Settings);
            var damage = new List<StoreDamage>();
            var store = TreeStore.Open(runDir);
            var wantedId = parse.GetValue(problem);
            var wantedIndex = parse.GetValue(index);
            if (wantedId is null && wantedIndex is null)
            {
                PrintTable(context.Console, store.ReadAll(damage.Add), runDir);
            }
            else
            {
                var tree = (wantedId is not null
                        ? store.ReadAll(damage.Add).FirstOrDefault(t => t.Problem.Id == wantedId)
                        : store.ReadAll(damage.Add).Skip(wantedIndex!.Value).FirstOrDefault())
                    ?? throw new UserError(wantedId is not null ? $"no tree for problem '{wantedId}' in {runDir}" : $"run {runDir} has no tree at index {wantedIndex}");
                PrintTree(context.Console, tree, parse.GetValue(maxDepth), parse.GetValue(width));
            }
            ReportDamage(context, damage);
            return 0;
        });
        return command;
    }

    internal static void ReportDamage(CliContext context, IReadOnlyList<StoreDamage> damage)
    {
        foreach (var d in damage) context.Console.MarkupLine($"[yellow]{Markup.Escape(DamageLine(d))}[/]");
    }

    internal static string DamageLine(StoreDamage d) => $"skipped damaged record: {d.File} at offset {d.Offset}: {d.Reason}";

    static void PrintTable(IAnsiConsole console, IEnumerable<PreferenceTree> trees, string runDir)
    {
        var table = new Table().Title(Markup.Escape(runDir)).AddColumns("#", "problem", "status", "algorithm", "nodes", "terminals", "correct path", "seconds");
        int count = 0, correct = 0;
        foreach (var tree in trees)
        {
            table.AddRow(
                count.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(tree.Problem.Id),
                tree.Status == TreeStatus.Completed ? "completed" : $"[red]failed[/]: {Markup.Escape(tree.Error ?? "")}",
                Markup.Escape(tree.Search.Algorithm),
                tree.Nodes.Count.ToString(CultureInfo.InvariantCulture),
                tree.Terminals.Count().ToString(CultureInfo.InvariantCulture),
                tree.HasCorrectPath ? "[green]yes[/]" : "no",
                (tree.Timings.ElapsedMs / 1000.0).ToString("0.0", CultureInfo.InvariantCulture));
            count++;
            if (tree.HasCorrectPath) correct++;
        }
        console.Write(table);
        console.MarkupLineInterpolated($"{count} trees, {correct} with a correct path");
    }

    static void PrintTree(IAnsiConsole console, PreferenceTree tree, int maxDepth, int width)
    {
        var p = tree.Problem;
        console.MarkupLineInterpolated($"[bold]{p.Id}[/] ({p.Family}, answer [green]{p.Answer}[/])");
        console.WriteLine(p.Question);
        foreach (var c in p.Choices) console.WriteLine($"  ({c.Label}) {c.Text}");
        var settings = string.Join(", ", tree.Search.Settings.Select(kv => $"{kv.Key}={kv.Value}"));
        console.MarkupLineInterpolated($"[grey]model {tree.ModelId}; {tree.Search.Algorithm} ({settings}); seed {tree.Seed}; {tree.Nodes.Count} nodes; {tree.Timings.ElapsedMs / 1000.0:0.0} s; schema v{tree.SchemaVersion}[/]");
        if (tree.Status == TreeStatus.Failed) console.MarkupLineInterpolated($"[red]failed: {tree.Error}[/]");
        var root = new Tree(new Markup($"[bold]root[/] {Scores(tree.Root)}"));
        // Built-in tasks know the truth of every step: each node shows its gold label (docs/gold-labels.md).
        var gold = tree.Status == TreeStatus.Completed && StepJudges.Supports(p.Family) && p.ReferenceSteps is not null ? GoldLabels.Of(tree) : null;
        AddChildren(root, tree, tree.Root, maxDepth, width, gold);
        console.Write(root);
    }

    static void AddChildren(IHasTreeNodes parent, PreferenceTree tree, TreeNode node, int maxDepth, int width, GoldLabels? gold)
    {
        if (node.Depth >= maxDepth) return;
        foreach (var child in tree.Children(node))
        {
            var text = child.Text.Length > width ? child.Text[..width] + "…" : child.Text;
            var mark = child.IsCorrect switch { true => "[green]✓[/] ", false => "[red]✗[/] ", null => "" };
            var label = gold?.Judgement(child) is { } j ? $" {GoldMark(j)}" : "";
            var added = parent.AddNode(new Markup($"{mark}{Markup.Escape(text)} {Scores(child)}{label}"));
            AddChildren(added, tree, child, maxDepth, width, gold);
        }
    }

    static string GoldMark(StepJudgement j)
    {
        var colour = j.Label switch { StepLabel.Valid or StepLabel.Correct => "green", StepLabel.Neutral => "grey", _ => "red" };
        return $"[{colour}]gold={j.Label.ToString().ToLowerInvariant()}[/][grey] ({Markup.Escape(j.Reason)})[/]";
    }

    static string Scores(TreeNode n)
    {
        var parts = new List<string> { $"#{n.Id}", $"N={n.Visits}", $"Q={n.Q:0.###}" };
        if (n.Prior != 0) parts.Add($"p={n.Prior:0.###}");
        if (n.SelfEval is { } se) parts.Add($"self={se:0.###}");
        if (n.MonteCarloValue is { } mc) parts.Add($"mc={mc:0.###}");
        if (n.VerifierScore is { } vs) parts.Add($"verifier={vs:0.###}");
        if (n.StepValue is { } v) parts.Add($"v={v:0.###}");
        if (n.Outcome is { } o) parts.Add($"outcome={o:0.###}");
        if (n.Answer is not null) parts.Add($"answer={n.Answer}");
        if (n.Truncated) parts.Add("truncated");
        if (n.DuplicateCount > 0) parts.Add($"dups={n.DuplicateCount}");
        return "[grey]" + Markup.Escape(string.Join(" ", parts)) + "[/]";
    }
}
