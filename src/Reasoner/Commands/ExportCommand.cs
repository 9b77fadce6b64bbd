using System.CommandLine;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Export;
using Reasoner.Core.Judging;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>export RUN</c>: a stored run as JSONL that TRL and other tools read.</summary>
static class ExportCommand
{
    public enum ExportFormat { TrlPairs, TrlStepwise, Tpo, Trees }

    public static Command Create(CliContext context)
    {
        var run = new Argument<string>("run") { Description = "Run folder, or a run name under the runs folder (RunsDir)." };
        var format = EnumOption.Create<ExportFormat>("--format",
            "trl-pairs: TRL preference {prompt, chosen, rejected}, one line per step pair. " +
            "trl-stepwise: TRL stepwise supervision {prompt, completions, labels}, one line per root-to-terminal path. " +
            "tpo: TPO {prompt, response_list[{response, score}]}, best first. trees: every tree with all nodes and metadata.",
            ExportFormat.TrlPairs, "-f");
        var output = new Option<string?>("--out", "-o") { Description = "Output file ('-' for standard output). Default: <run>/export/<format>.jsonl." };
        var value = EnumOption.Create<NodeValueKind>("--value",
            "Node score that ranks steps. Default: for trl-pairs and trl-stepwise, the value the run's search ranked steps by (q for mcts, monte-carlo-value for best-first, step-value for beam); outcome (of the terminal) for tpo. " +
            "gold: the oracle, ranking by gold step labels (built-in tasks only; an upper bound, written to *.gold-oracle.jsonl).",
            null);
        var margin = new Option<double>("--min-margin") { Description = "trl-pairs: keep a pair only when chosen's value exceeds rejected's by at least this (Tree-PLV uses 0.375).", DefaultValueFactory = _ => 0.375 };
        var pairs = EnumOption.Create<PairSelection>("--pairs",
            "trl-pairs: all sibling pairs past the margin (Tree-PLV) or only best vs worst sibling (MCTS-DPO).", PairSelection.All);
        var continuation = EnumOption.Create<ContinuationMode>("--continuation",
            "trl-pairs: the step alone (none), the step and the single-child chain below it (as MCTS-DPO), or the step and its best child down to a leaf.",
            ContinuationMode.None);
        var threshold = new Option<double>("--threshold") { Description = "trl-stepwise: a step is labelled correct when its value is above this.", DefaultValueFactory = _ => 0.0 };

        var command = new Command("export", "Write a stored run as JSONL other tools read (TRL preference, TRL stepwise, TPO lists, plain trees). The file is written whole or not at all.")
        {
            run, format, output, value, margin, pairs, continuation, threshold,
        };
        command.SetAction(parse =>
        {
            var runDir = RunLocation.Resolve(parse.GetValue(run)!, context.Settings);
            var chosenFormat = EnumOption.Value<ExportFormat>(parse, format);
            using var store = TreeStore.Open(runDir);
            var kind = EnumOption.ValueOrNull<NodeValueKind>(parse, value) ?? chosenFormat switch
            {
                ExportFormat.Tpo => NodeValueKind.Outcome,
                // A pass over the run of its own, so that the export itself still streams.
                ExportFormat.TrlPairs or ExportFormat.TrlStepwise => RankingValue(store.ReadAll(_ => { }).Select(t => t.Search.Algorithm)),
                _ => NodeValueKind.StepValue, // plain trees carry every value; none is chosen
            };
            bool oracle = kind == NodeValueKind.Gold;
            if (oracle && store.ReadAll(_ => { }).Select(t => t.Problem.Family).FirstOrDefault(f => !StepJudges.Supports(f)) is { } family)
                throw new UserError($"--value gold ranks steps by gold step labels, which only the built-in tasks arith and logic have; the run holds {family} trees");
            var damage = new List<StoreDamage>();
            var (trees, selector) = GoldValues.Resolve(store.ReadAll(damage.Add), kind);
            Func<Stream, ExportCounts> write = chosenFormat switch
            {
                ExportFormat.TrlPairs => s => TrlPreferenceExport.Write(trees, s, new TrlPreferenceOptions
                {
                    Pairs = new StepPairOptions
                    {
                        Value = selector,
                        MinMargin = parse.GetValue(margin),
                        Selection = EnumOption.Value<PairSelection>(parse, pairs),
                        Continuation = EnumOption.Value<ContinuationMode>(parse, continuation),
                    },
                }),
                ExportFormat.TrlStepwise => s => TrlStepwiseExport.Write(trees, s, new TrlStepwiseOptions { StepValue = selector, Threshold = parse.GetValue(threshold) }),
                ExportFormat.Tpo => s => TpoListExport.Write(trees, s, new TpoListOptions { Lists = new TrajectoryListOptions { Score = selector } }),
                _ => s => TreeJsonlExport.Write(trees, s),
            };
            // An oracle export is an upper bound to compare trainers with, never training data a method produced: its name says so.
            var target = parse.GetValue(output) ?? Path.Combine(runDir, "export", $"{EnumOption.Kebab(chosenFormat.ToString())}{(oracle ? ".gold-oracle" : "")}.jsonl");
            if (oracle)
                context.Errors.WriteLine("oracle: steps ranked by gold step labels (the built-in tasks' step judge), an upper bound for comparison, not a method's data");
            ExportCounts counts;
            if (target == "-")
            {
                // Standard output carries the JSONL alone; what people read goes to standard error.
                using (var stdout = new TextWriterStream(context.Output)) counts = write(stdout);
                foreach (var d in damage) context.Errors.WriteLine(ShowCommand.DamageLine(d));
                context.Errors.WriteLine($"{counts.Lines} lines from {counts.TreesUsed} of {counts.Trees} trees → stdout");
                return 0;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
            counts = AtomicFile.Write(target, write);
            ShowCommand.ReportDamage(context, damage);
            context.Console.MarkupLineInterpolated($"{counts.Lines} lines from {counts.TreesUsed} of {counts.Trees} trees → {target}");
            return 0;
        });
        return command;
    }

    /// <summary>The value the run's search ranked steps by (<see cref="PairDefaults.RankingValue"/>); a mixed run must name one.</summary>
    internal static NodeValueKind RankingValue(IEnumerable<string> treeAlgorithms)
    {
        try { return PairDefaults.RankingValue(treeAlgorithms); }
        catch (ArgumentException e) { throw new UserError(e.Message + " with --value"); }
    }
}
