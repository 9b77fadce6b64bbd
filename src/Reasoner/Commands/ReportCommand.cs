using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Export;
using Reasoner.Core.Quality;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>report data RUN…</c>: stored runs of the built-in tasks graded against gold step labels. <c>report trainers EVAL…</c>:
/// the results table over saved evaluations of a baseline and of trainers with several seeds.
/// </summary>
static class ReportCommand
{
    public static Command Create(CliContext context) => new("report", "Reports on stored runs and saved evaluations.") { Data(context), Trainers(context), Rounds(context) };

    private static Command Rounds(CliContext context)
    {
        var runs = new Argument<string[]>("runs") { Description = "iterate run folders (each with its iterate.json), or names under RunsDir.", Arity = ArgumentArity.OneOrMore };
        var plot = new Option<string?>("--plot") { Description = "Where to draw accuracy against round, one line per run. Default: <first run>/rounds.png." };
        var command = new Command("rounds", "Greedy accuracy by round of iterate runs, with 95 % intervals: a table, and a PNG with one line per run.")
        {
            runs, plot,
        };
        command.SetAction(parse =>
        {
            var series = new List<Iteration.RoundSeries>();
            foreach (var name in parse.GetValue(runs)!)
            {
                var folder = Directory.Exists(name) ? name : Path.Combine(context.Settings.RunsDir, name);
                try { series.Add(Iteration.RoundsPlot.Read(folder)); }
                catch (InvalidDataException e) { throw new UserError(e.Message); }
            }
            int rounds = series.SelectMany(s => s.Points).Select(p => p.Round).DefaultIfEmpty(0).Max();
            var table = new Table().AddColumns(["run", "trainer", .. Enumerable.Range(0, rounds + 1).Select(r => r == 0 ? "round 0 (start)" : $"round {r}")]);
            foreach (var s in series)
            {
                var cells = Enumerable.Range(0, rounds + 1).Select(r =>
                    s.Points.Where(p => p.Round == r).Select(p => Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{p.Greedy * 100:0.0} % [{p.Low * 100:0.0}, {p.High * 100:0.0}]"))).FirstOrDefault() ?? "–");
                table.AddRow([Markup.Escape(s.Name), Markup.Escape(s.Trainer), .. cells]);
            }
            context.Console.Write(table);
            var first = parse.GetValue(runs)![0];
            var png = parse.GetValue(plot) ?? Path.Combine(Directory.Exists(first) ? first : Path.Combine(context.Settings.RunsDir, first), "rounds.png");
            Iteration.RoundsPlot.Write(series, png);
            context.Console.MarkupLineInterpolated($"[grey]plot → {png}[/]");
            return 0;
        });
        return command;
    }

    private static Command Trainers(CliContext context)
    {
        var reports = new Argument<string[]>("reports") { Description = "Saved eval reports (.json) of the baseline and of every trainer and seed, on one or more tasks. A report's trainer and seed come from its model folder's name: dpo-s2 is dpo, seed 2.", Arity = ArgumentArity.OneOrMore };
        var baseline = new Option<string>("--baseline") { Description = "The trainer name of the baseline's reports (its model folder's name).", DefaultValueFactory = _ => "builtin" };
        var against = new Option<string?>("--against") { Description = "Also compare every trainer with this one (e.g. dpo, the MCTS-DPO baseline)." };
        var markdown = new Option<string?>("--markdown") { Description = "Also write the table as Markdown to this file." };
        var best = new Option<bool>("--best") { Description = "Print only the name of the trainer with the highest mean greedy accuracy over the tasks (for scripts: the one to iterate)." };
        var command = new Command("trainers",
            "The results table: per task, each trainer's greedy accuracy as the mean and range over its seeds, and its paired difference to the baseline " +
            "(per problem, the seeds' mean correctness minus the baseline's) with a bootstrap 95 % interval over problems. A trainer beats the baseline " +
            "when the interval lies above zero.")
        {
            reports, baseline, against, markdown, best,
        };
        command.SetAction(parse =>
        {
            var loaded = parse.GetValue(reports)!.Select(path =>
                File.Exists(path) ? Training.Evaluation.EvalReport.Load(path) : throw new FileNotFoundException($"no saved report at {path}", path)).ToList();
            var baseName = parse.GetValue(baseline)!;
            var rows = Training.Evaluation.TrainerTable.Against(loaded, baseName);
            if (parse.GetValue(best))
            {
                context.Console.WriteLine(Training.Evaluation.TrainerTable.Best(rows));
                return 0;
            }
            var versus = parse.GetValue(against) is { } other ? Training.Evaluation.TrainerTable.Against(loaded, other) : null;
            var baseGreedy = loaded.Where(r => Training.Evaluation.TrainerTable.NameOf(r.Run.Model).Trainer == baseName)
                .GroupBy(r => r.Run.Task).ToDictionary(g => g.Key, g => g.Average(r => r.Summary.Greedy.Value));

            string Points(double x) => (x * 100).ToString("+0.0;−0.0;0.0", CultureInfo.InvariantCulture);
            string Versus(Training.Evaluation.TrainerRow r) =>
                $"{Points(r.Difference)} [{Points(r.DifferenceInterval.Low)}, {Points(r.DifferenceInterval.High)}] {(r.Beats ? "beats" : r.Loses ? "loses" : "no difference")}";
            var header = new List<string> { "task", "trainer", "seeds", "greedy: mean [min, max]", $"− {baseName}, pts [95 % CI]" };
            if (versus is not null) header.Add($"− {parse.GetValue(against)}, pts [95 % CI]");
            var lines = new List<string[]>();
            foreach (var task in baseGreedy.Keys.Order(StringComparer.Ordinal))
            {
                lines.Add([task, baseName, "–", string.Create(CultureInfo.InvariantCulture, $"{baseGreedy[task] * 100:0.0} %"), "", .. versus is null ? Array.Empty<string>() : [""]]);
                foreach (var r in rows.Where(r => r.Task == task))
                {
                    var cells = new List<string> { task, r.Trainer, $"{r.Seeds}", string.Create(CultureInfo.InvariantCulture, $"{r.MeanGreedy * 100:0.0} % [{r.MinGreedy * 100:0.0}, {r.MaxGreedy * 100:0.0}]"), Versus(r) };
                    if (versus is not null) cells.Add(versus.FirstOrDefault(v => v.Task == task && v.Trainer == r.Trainer) is { } v ? Versus(v) : "–");
                    lines.Add([.. cells]);
                }
            }
            var table = new Table().AddColumns([.. header.Select(Markup.Escape)]);
            foreach (var line in lines) table.AddRow([.. line.Select(Markup.Escape)]);
            context.Console.Write(table);
            if (parse.GetValue(markdown) is { } file)
            {
                var text = $"| {string.Join(" | ", header)} |\n| {string.Join(" | ", header.Select(_ => "---"))} |\n" + string.Concat(lines.Select(l => $"| {string.Join(" | ", l)} |\n"));
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
                AtomicFile.Write(file, stream => { stream.Write(System.Text.Encoding.UTF8.GetBytes(text)); return 0; });
                context.Console.MarkupLineInterpolated($"[grey]Markdown → {file}[/]");
            }
            return 0;
        });
        return command;
    }

    private static Command Data(CliContext context)
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folders, or run names under the runs folder (RunsDir), of built-in task trees (arith, logic).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--json") { Description = "Write the report as JSON here ('-' for standard output, which then carries the JSON alone). Default: <first run>/report/data-quality.json." };
        var command = new Command("data",
            "Grade search trees of the built-in tasks against gold step labels (a step judge per task, no model): outcome false positives, " +
            "pair precision of the pairs train dpo and export take, stepwise-label accuracy, and the AUC of self-evaluation and Monte Carlo values.")
        {
            runs, output,
        };
        command.SetAction(parse =>
        {
            var runDirs = parse.GetValue(runs)!.Select(r => RunLocation.Resolve(r, context.Settings)).ToArray();
            var damage = new List<StoreDamage>();
            var trees = new List<PreferenceTree>();
            foreach (var dir in runDirs)
                using (var store = TreeStore.Open(dir)) trees.AddRange(store.ReadAll(damage.Add));
            ShowCommand.ReportDamage(context, damage);
            if (trees.Count == 0) throw new UserError($"no trees in {string.Join(", ", runDirs)}");
            var report = DataQuality.Measure(trees);
            if (report.Families.Count == 0)
                throw new UserError($"none of the {trees.Count} trees can be graded: gold step labels exist for the built-in tasks arith and logic only"
                    + (report.NotJudgedFamilies.Count > 0 ? $" (these are {string.Join(", ", report.NotJudgedFamilies)})" : " (the completed ones)"));

            var json = JsonSerializer.Serialize(new { runs = runDirs, report }, JsonOptions) + "\n";
            var target = parse.GetValue(output) ?? Path.Combine(runDirs[0], "report", "data-quality.json");
            if (target == "-")
            {
                context.Output.Write(json);
                // Standard output carries the JSON alone; the tables go to standard error.
                Print(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Errors) }), report, runDirs);
                return 0;
            }
            Print(context.Console, report, runDirs);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
            AtomicFile.Write(target, stream => { stream.Write(System.Text.Encoding.UTF8.GetBytes(json)); return 0; });
            context.Console.MarkupLineInterpolated($"[grey]JSON → {target}[/]");
            return 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string Percent(double? share) => share is { } s ? s.ToString("P1", CultureInfo.InvariantCulture) : "–";

    private static string Number(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Value(NodeValueKind kind) => EnumOption.Kebab(kind.ToString());

    private static void Print(IAnsiConsole console, DataQualityReport report, IReadOnlyList<string> runDirs)
    {
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]data quality[/] of {string.Join(", ", runDirs)}: {report.Trees - report.NotJudged} of {report.Trees} trees graded against gold step labels; default ranking value {(report.RankingValue is { } r ? Value(r) : "none (several algorithms)")}");
        if (report.NotJudged > 0)
            console.MarkupLineInterpolated($"[grey]{report.NotJudged} trees not graded (failed, or of {(report.NotJudgedFamilies.Count > 0 ? string.Join(", ", report.NotJudgedFamilies) : "no other family")}, which have no gold labels)[/]");

        var steps = new Table().Title("steps and outcomes")
            .AddColumns("task", "trees", "correct path", "sound correct path", "steps", "valid", "neutral", "invalid", "correct", "incorrect", "correct answers", "through an invalid step");
        foreach (var f in report.Families)
            steps.AddRow(f.Family, Number(f.Trees), Number(f.TreesWithCorrectPath), Number(f.TreesWithSoundCorrectPath), Number(f.Labels.Total),
                Number(f.Labels.Valid), Number(f.Labels.Neutral), Number(f.Labels.Invalid), Number(f.Labels.Correct), Number(f.Labels.Incorrect),
                Number(f.Outcomes.CorrectTerminals), $"{Number(f.Outcomes.ThroughInvalidStep)} ({Percent(f.Outcomes.Share)})");
        console.Write(steps);

        var pairs = new Table().Title("pair precision (sides on a sound prefix: chosen sound and rejected not = right, the reverse = wrong)")
            .AddColumns("task", "pairs of", "value", "margin", "pairs", "invalid prefix", "right", "wrong", "both sound", "both unsound", "precision");
        foreach (var f in report.Families)
            foreach (var p in f.Pairs)
                pairs.AddRow(f.Family, p.Source, Value(p.Value) + (p.IsDefault ? " (default)" : ""), p.MinMargin.ToString("0.###", CultureInfo.InvariantCulture),
                    Number(p.Pairs), Number(p.OnInvalidPrefix), Number(p.Right), Number(p.Wrong), Number(p.BothSound), Number(p.BothUnsound), Percent(p.Precision));
        console.Write(pairs);

        var stepwise = new Table().Title("trl-stepwise labels (value > 0) against gold (the path down to the step is sound)")
            .AddColumns("task", "value", "steps", "accuracy", "good, labelled good", "bad, labelled good", "good, labelled bad", "bad, labelled bad");
        foreach (var f in report.Families)
            foreach (var s in f.Stepwise)
                stepwise.AddRow(f.Family, Value(s.Value) + (s.IsDefault ? " (default)" : ""), Number(s.Steps), Percent(s.Accuracy),
                    Number(s.TruePositive), Number(s.FalsePositive), Number(s.FalseNegative), Number(s.TrueNegative));
        console.Write(stepwise);

        var auc = new Table().Title("AUC against gold validity, non-terminal steps (valid vs invalid; 0.5 is chance)")
            .AddColumns("task", "value", "valid steps", "invalid steps", Markup.Escape("AUC [95 % CI]"));
        foreach (var f in report.Families)
            foreach (var a in f.Auc)
                auc.AddRow(f.Family, Value(a.Value), Number(a.Valid), Number(a.Invalid),
                    a.Auc is { } v ? Markup.Escape(v.ToString("0.000", CultureInfo.InvariantCulture) + " " + a.Interval!.Value.Format("0.000", 1)) : "–");
        console.Write(auc);
    }
}
