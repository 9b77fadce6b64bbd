using Reasoner.Tests.Cli;
using Reasoner.Training.Evaluation;

namespace Reasoner.Tests.Eval;

public class TrainerTableTests
{
    private static EvalReport Report(string model, string task, params bool[] greedy) => EvalReport.Create(
        new EvalRun(task, 2, null, model, "solve-bare", 1, 1, 1, 1, 64, 1),
        [.. greedy.Select((g, i) => new ProblemOutcome($"{task}-{i}", "text", g ? "1" : "2", g, null, ["1"], g ? 1 : 0, g ? 1 : 0, "1", g))]);

    [Theory]
    [InlineData("runs/table/dpo-s2", "dpo", 2)]
    [InlineData("runs/table/step-dpo-s10/", "step-dpo", 10)]
    [InlineData("/work/models/builtin", "builtin", 0)]
    public void TheTrainerAndSeedComeFromTheModelFoldersName(string path, string trainer, int seed) =>
        Assert.Equal((trainer, seed), TrainerTable.NameOf(path));

    [Fact]
    public void SeedsAreAveragedPerProblemBeforeTheyArePairedWithTheBaseline()
    {
        // Base right on problems 0-1 of 4. dpo's two seeds: right on 0-3 and on 0-1 → per problem 1, 1, .5, .5 against 1, 1, 0, 0 → +0.25 on average.
        // tpo: right on exactly what the base got right → 0.
        var reports = new[]
        {
            Report("m/builtin", "arith", true, true, false, false),
            Report("m/dpo-s1", "arith", true, true, true, true),
            Report("m/dpo-s2", "arith", true, true, false, false),
            Report("m/tpo-s1", "arith", true, true, false, false),
            Report("m/builtin", "logic", true, false),
            Report("m/dpo-s1", "logic", false, false),
        };

        var rows = TrainerTable.Against(reports, "builtin");

        Assert.Equal([("arith", "dpo"), ("arith", "tpo"), ("logic", "dpo")], rows.Select(r => (r.Task, r.Trainer)));
        var dpo = rows[0];
        Assert.Equal((2, 4), (dpo.Seeds, dpo.Problems));
        Assert.Equal((0.75, 0.5, 1.0), (dpo.MeanGreedy, dpo.MinGreedy, dpo.MaxGreedy));
        Assert.Equal(0.25, dpo.Difference, 12);
        Assert.True(dpo.DifferenceInterval.Contains(0.25));
        Assert.Equal(0, rows[1].Difference);
        Assert.False(rows[1].Beats || rows[1].Loses);
        Assert.Equal(-0.5, rows[2].Difference, 12);
    }

    [Fact]
    public void AClearWinIsABeatAndAMissingBaselineOrATwiceEvaluatedSeedIsRefused()
    {
        var baseline = Report("builtin", "arith", [.. Enumerable.Repeat(false, 60)]);
        var better = Report("dpo-s1", "arith", [.. Enumerable.Range(0, 60).Select(i => i % 2 == 0)]);
        Assert.True(TrainerTable.Against([baseline, better], "builtin").Single().Beats);

        Assert.Contains("no evaluation of builtin on arith", Assert.Throws<ArgumentException>(() => TrainerTable.Against([better], "builtin")).Message);
        Assert.Contains("two evaluations of one seed", Assert.Throws<ArgumentException>(() => TrainerTable.Against([baseline, better, better], "builtin")).Message);
    }

    [Fact]
    public async Task ReportTrainersPrintsTheTableAndWritesItAsMarkdown()
    {
        using var dir = new Models.TestData.TempDirectory();
        var files = new (string Model, bool[] Greedy)[] { ("m/builtin", [true, false, false, false]), ("m/dpo-s1", [true, true, false, false]), ("m/dpo-s2", [true, true, true, false]) }
            .Select((r, i) => { var path = Path.Combine(dir.Path, $"{i}.json"); File.WriteAllText(path, Report(r.Model, "arith", r.Greedy).ToJson()); return path; }).ToArray();
        var markdown = Path.Combine(dir.Path, "table.md");

        var r = await CliRunner.Run(["report", "trainers", .. files, "--markdown", markdown]);

        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("62.5 % [50.0, 75.0]", r.Out);
        var lines = File.ReadAllLines(markdown);
        Assert.Equal("| task | trainer | seeds | greedy: mean [min, max] | − builtin, pts [95 % CI] |", lines[0]);
        Assert.StartsWith("| arith | builtin | – | 25.0 % |", lines[2]);
        Assert.StartsWith("| arith | dpo | 2 | 62.5 % [50.0, 75.0] | +37.5 [", lines[3]);
    }

    [Fact]
    public async Task TheBestTrainerHasTheHighestMeanGreedyAccuracyOverTheTasks()
    {
        // dpo: 75 % on arith, 0 % on logic (mean 37.5 %); tpo: 50 % and 50 % (mean 50 %): tpo, though dpo leads on arith.
        var reports = new[]
        {
            Report("m/builtin", "arith", true, false, false, false), Report("m/builtin", "logic", true, false),
            Report("m/dpo-s1", "arith", true, true, true, false), Report("m/dpo-s1", "logic", false, false),
            Report("m/tpo-s1", "arith", true, true, false, false), Report("m/tpo-s1", "logic", true, false),
        };
        Assert.Equal("tpo", TrainerTable.Best(TrainerTable.Against(reports, "builtin")));
        Assert.Throws<ArgumentException>(() => TrainerTable.Best([]));

        using var dir = new Models.TestData.TempDirectory();
        var files = reports.Select((r, i) => { var path = Path.Combine(dir.Path, $"{i}.json"); File.WriteAllText(path, r.ToJson()); return path; }).ToArray();
        var run = await CliRunner.Run(["report", "trainers", .. files, "--best"]);
        Assert.True(run.ExitCode == 0, run.Err);
        Assert.Equal("tpo", run.Out.Trim());
    }
}
