using Reasoner.Core.Judging;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

/// <summary><see cref="OwnStepPool"/>: the model's own steps judged in context, saved, read back and drawn class-balanced.</summary>
public sealed class OwnStepPoolTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("reasoner-own-steps-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("arith")]
    [InlineData("logic")]
    public void EachStepIsJudgedInTheContextOfTheStepsBeforeIt(string task)
    {
        var problem = BuiltinTasks.TestSet(task)[0];
        var reference = problem.ReferenceSteps!;
        var entries = OwnStepPool.Judge(OwnStepPool.TestSplit, problem, string.Join("\n", reference) + "\n\n").ToList();

        Assert.Equal(reference.Count, entries.Count);
        Assert.All(entries, e => Assert.True(e.Example.Sound, e.Example.Step));
        Assert.Equal(reference.Take(2), entries[2].Example.Prefix);

        // A corrupted first step is unsound; the steps after it are labelled as the judge labels them in that context.
        var kinds = task == "arith" ? StepCorruptor.ArithKinds : StepCorruptor.LogicKinds;
        var broken = Enumerable.Range(0, 50).Select(s => StepCorruptor.Corrupt(problem, 0, kinds[s % kinds.Count], new Random(s))).First(c => c is not null)!;
        var judged = OwnStepPool.Judge(OwnStepPool.TrainSplit, problem, string.Join("\n", [broken.Step, .. reference.Skip(1)])).ToList();
        Assert.False(judged[0].Example.Sound);
        var expected = StepJudges.For(problem).JudgeSolution([broken.Step, .. reference.Skip(1)]).Select(j => j.IsSound);
        Assert.Equal(expected, judged.Select(e => e.Example.Sound));
    }

    [Fact]
    public void AnEmptySolutionGivesNoExamples() =>
        Assert.Empty(OwnStepPool.Judge(OwnStepPool.TrainSplit, BuiltinTasks.TestSet("arith")[0], "\n  \n"));

    [Fact]
    public void DrawsAreClassBalancedFromTrainProblemsOnly()
    {
        var pool = Pool(out _);
        var random = new Random(5);
        var draws = Enumerable.Range(0, 2000).Select(_ => pool.Draw("arith", random)!.Value).ToList();

        Assert.All(draws, d => Assert.Equal("arith", d.Problem.Family));
        // Nine sound steps for each unsound one in the pool, but the draws are about even.
        Assert.InRange(draws.Count(d => d.Example.Sound) / 2000.0, 0.45, 0.55);
        Assert.DoesNotContain(draws, d => d.Example.Step == "held out");
        // A task with one class only draws that class; a task with none draws nothing.
        Assert.All(Enumerable.Range(0, 50), _ => Assert.True(pool.Draw("logic", random)!.Value.Example.Sound));
        Assert.Null(new OwnStepPool([]).Draw("arith", random));
        Assert.Equal((9, 1), pool.Count(OwnStepPool.TrainSplit, "arith"));
        Assert.Equal(["arith"], pool.HeldOut().Keys);
    }

    [Fact]
    public void ASavedPoolReadsBackAndABadLineNamesItsFileAndLine()
    {
        var pool = Pool(out var problems);
        var path = Path.Combine(_folder, OwnStepPool.FileName);
        pool.Save(path);

        var loaded = OwnStepPool.Load(path, problems);
        Assert.Equal(pool.Entries.Select(e => (e.Split, e.Problem.Id, string.Join("|", e.Example.Prefix), e.Example.Step, e.Example.Sound)),
            loaded.Entries.Select(e => (e.Split, e.Problem.Id, string.Join("|", e.Example.Prefix), e.Example.Step, e.Example.Sound)));

        // A pool made on other problems is refused, not silently trained on.
        var error = Assert.Throws<InvalidDataException>(() => OwnStepPool.Load(path, problems.Skip(1).ToList()));
        Assert.Contains($"{path}:1:", error.Message);
        File.AppendAllText(path, "{not json\n");
        error = Assert.Throws<InvalidDataException>(() => OwnStepPool.Load(path, problems));
        Assert.Contains($"{path}:{pool.Entries.Count + 1}:", error.Message);
    }

    /// <summary>Nine sound arith steps and one unsound, one sound logic step, and one held-out arith step.</summary>
    private static OwnStepPool Pool(out List<(string Split, Problem Problem)> problems)
    {
        var arith = BuiltinTasks.Generate("arith", Split.Train, seed: 3).Take(10).ToList();
        var logic = BuiltinTasks.Generate("logic", Split.Train, seed: 3).First();
        var test = BuiltinTasks.TestSet("arith")[0];
        problems = [.. arith.Select(p => (OwnStepPool.TrainSplit, p)), (OwnStepPool.TrainSplit, logic), (OwnStepPool.TestSplit, test)];
        var entries = arith.Select((p, i) => new OwnStepPool.Entry(OwnStepPool.TrainSplit, p, new SelfEvalExample(p.Id, [], p.ReferenceSteps![0], Sound: i > 0)))
            .Append(new OwnStepPool.Entry(OwnStepPool.TrainSplit, logic, new SelfEvalExample(logic.Id, [], logic.ReferenceSteps![0], Sound: true)))
            .Append(new OwnStepPool.Entry(OwnStepPool.TestSplit, test, new SelfEvalExample(test.Id, [], "held out", Sound: false)));
        return new OwnStepPool(entries);
    }
}
