using System.CommandLine;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Export;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>export RUN</c>: a stored run as JSONL that TRL and other tools read.</summary>
static class ExportCommand
{
    public enum ExportFormat { TrlPairs, TrlStepwise, Tpo, Trees }

    public enum PairMode { All, BestVsWorst }

    public static Command Create(CliContext context)
    {
        var run = new Argument<string>("run") { Description = "Run folder, or a run name under the runs folder (RunsDir)." };
        var format = new Option<ExportFormat>("--format", "-f")
        {
            Description = "trl-pairs: TRL preference {prompt, chosen, rejected}, one line per step pair. " +
                          "trl-stepwise: TRL stepwise supervision {prompt, completions, labels}, one line per root-to-terminal path. " +
                          "tpo: TPO {prompt, response_list[{response, score}]}, best first. trees: every tree with all nodes and metadata.",
            DefaultValueFactory = _ => ExportFormat.TrlPairs,
            CustomParser = r => ParseEnum<ExportFormat>(r),
        };
        var output = new Option<string?>("--out", "-o") { Description = "Output file ('-' for standard output). Default: <run>/export/<format>.jsonl." };
        var value = new Option<NodeValueKind?>("--value")
        {
            Description = "Node score that ranks steps: q, monte-carlo-value, self-eval, outcome or step-value. " +
                          "Default: monte-carlo-value for trl-pairs and trl-stepwise, outcome (of the terminal) for tpo.",
            CustomParser = r => ParseEnum<NodeValueKind>(r),
        };
        var margin = new Option<double>("--min-margin") { Description = "trl-pairs: keep a pair only when chosen's value exceeds rejected's by at least this (Tree-PLV uses 0.375).", DefaultValueFactory = _ => 0.375 };
        var pairs = new Option<PairMode>("--pairs")
        {
            Description = "trl-pairs: all sibling pairs past the margin (Tree-PLV) or only best vs worst sibling (MCTS-DPO).",
            DefaultValueFactory = _ => PairMode.All,
            CustomParser = r => ParseEnum<PairMode>(r),
        };
        var continuation = new Option<ContinuationMode>("--continuation")
        {
            Description = "trl-pairs: none (the step alone), single-child-chain (the step and the chain below it, as MCTS-DPO), best-child-to-leaf.",
            DefaultValueFactory = _ => ContinuationMode.None,
            CustomParser = r => ParseEnum<ContinuationMode>(r),
        };
        var threshold = new Option<double>("--threshold") { Description = "trl-stepwise: a step is labelled correct when its value is above this.", DefaultValueFactory = _ => 0.0 };

        var command = new Command("export", "Write a stored run as JSONL other tools read (TRL preference, TRL stepwise, TPO lists, plain trees). The file is written whole or not at all.")
        {
            run, format, output, value, margin, pairs, continuation, threshold,
        };
        command.SetAction(parse =>
        {
            var runDir = RunLocation.Resolve(parse.GetValue(run)!, context.Settings);
            var chosenFormat = parse.GetValue(format);
            var selector = NodeValues.Of(parse.GetValue(value) ?? (chosenFormat == ExportFormat.Tpo ? NodeValueKind.Outcome : NodeValueKind.MonteCarloValue));
            var damage = new List<StoreDamage>();
            var trees = TreeStore.Open(runDir).ReadAll(damage.Add);
            Func<Stream, ExportCounts> write = chosenFormat switch
            {
                ExportFormat.TrlPairs => s => TrlPreferenceExport.Write(trees, s, new TrlPreferenceOptions
                {
                    Pairs = new StepPairOptions
                    {
                        Value = selector,
                        MinMargin = parse.GetValue(margin),
                        Selection = parse.GetValue(pairs) == PairMode.All ? PairSelection.AllPairs : PairSelection.BestVsWorst,
                        Continuation = parse.GetValue(continuation),
                    },
                }),
                ExportFormat.TrlStepwise => s => TrlStepwiseExport.Write(trees, s, new TrlStepwiseOptions { StepValue = selector, Threshold = parse.GetValue(threshold) }),
                ExportFormat.Tpo => s => TpoListExport.Write(trees, s, new TpoListOptions { Lists = new TrajectoryListOptions { Score = selector } }),
                _ => s => TreeJsonlExport.Write(trees, s),
            };
            var target = parse.GetValue(output) ?? Path.Combine(runDir, "export", $"{Kebab(chosenFormat.ToString())}.jsonl");
            ExportCounts counts;
            if (target == "-")
            {
                using var stdout = Console.OpenStandardOutput();
                counts = write(stdout);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
                counts = AtomicFile.Write(target, write);
            }
            ShowCommand.ReportDamage(context, damage);
            context.Console.MarkupLineInterpolated($"{counts.Lines} lines from {counts.TreesUsed} of {counts.Trees} trees → {(target == "-" ? "stdout" : target)}");
            return 0;
        });
        return command;
    }

    /// <summary>Enum values on the command line are kebab-case: trl-pairs, monte-carlo-value.</summary>
    internal static T ParseEnum<T>(System.CommandLine.Parsing.ArgumentResult result) where T : struct, Enum
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        foreach (var v in Enum.GetValues<T>())
            if (Kebab(v.ToString()).Equals(text, StringComparison.OrdinalIgnoreCase) || v.ToString().Equals(text, StringComparison.OrdinalIgnoreCase))
                return v;
        result.AddError($"'{text}' is not one of {string.Join(", ", Enum.GetValues<T>().Select(v => Kebab(v.ToString())))}");
        return default;
    }

    internal static string Kebab(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
