using Reasoner.Core.Judging;
using Reasoner.Core.Tasks;

namespace Reasoner.Tests.Judging;

/// <summary>The judge against the generators: every reference step of thousands of problems, and 5,000 steps broken by construction.</summary>
public class CorruptionTests
{
    [Theory]
    [InlineData("arith", 1)]
    [InlineData("arith", 2)]
    [InlineData("arith", 3)]
    [InlineData("logic", 1)]
    [InlineData("logic", 2)]
    [InlineData("logic", 3)]
    public void EveryReferenceStepIsValidAndEveryReferenceAnswerCorrect(string task, int difficulty)
    {
        var problems = BuiltinTasks.Generate(task, Split.Train, seed: 11, difficulty).Take(1500)
            .Concat(BuiltinTasks.Generate(task, Split.Test, seed: 12, difficulty).Take(500));
        foreach (var problem in problems)
        {
            var judgements = StepJudges.For(problem).JudgeSolution(problem.ReferenceSteps!);
            for (int i = 0; i < judgements.Count - 1; i++)
                Assert.True(judgements[i].Label == StepLabel.Valid, $"{problem.Id} step {i} '{problem.ReferenceSteps![i]}': {judgements[i]}");
            Assert.True(judgements[^1].Label == StepLabel.Correct, $"{problem.Id} answer: {judgements[^1]}");
        }
    }

    [Fact]
    public void FiveThousandCorruptionsAreJudgedWrong()
    {
        var random = new Random(20261203);
        var byKind = new Dictionary<CorruptionKind, int>();
        int judged = 0;
        foreach (var task in BuiltinTasks.Names)
            for (int difficulty = 1; difficulty <= 3; difficulty++)
                foreach (var problem in BuiltinTasks.Generate(task, Split.Train, seed: 100 + difficulty, difficulty).Take(900))
                {
                    if (judged == 5000) break;
                    if (StepCorruptor.Any(problem, random) is not { } corruption) continue;
                    var judge = StepJudges.For(problem);
                    var state = judge.Start;
                    foreach (var step in problem.ReferenceSteps!.Take(corruption.StepIndex))
                        (_, state) = judge.Judge(state, step);
                    var (judgement, _) = judge.Judge(state, corruption.Step);
                    var expected = corruption.Kind == CorruptionKind.WrongAnswer ? StepLabel.Incorrect : StepLabel.Invalid;
                    Assert.True(judgement.Label == expected,
                        $"{problem.Id} {corruption.Kind} of step {corruption.StepIndex} '{corruption.Original}' → '{corruption.Step}': {judgement}");
                    byKind[corruption.Kind] = byKind.GetValueOrDefault(corruption.Kind) + 1;
                    judged++;
                }
        Assert.Equal(5000, judged);
        // Every kind of corruption is well represented.
        foreach (var kind in Enum.GetValues<CorruptionKind>())
            Assert.True(byKind.GetValueOrDefault(kind) >= 150, $"{kind}: {byKind.GetValueOrDefault(kind)} of {string.Join(", ", byKind)}");
    }

    [Fact]
    public void CorruptionsAreReproducibleAndChangeTheStep()
    {
        var problem = BuiltinTasks.Generate("arith", Split.Train, seed: 3).First(p => p.ReferenceSteps!.Count >= 4);
        foreach (var kind in StepCorruptor.ArithKinds)
        {
            var a = StepCorruptor.Corrupt(problem, kind == CorruptionKind.WrongAnswer ? problem.ReferenceSteps!.Count - 1 : 0, kind, new Random(5));
            var b = StepCorruptor.Corrupt(problem, kind == CorruptionKind.WrongAnswer ? problem.ReferenceSteps!.Count - 1 : 0, kind, new Random(5));
            Assert.Equal(a, b);
            if (a is not null) Assert.NotEqual(a.Original, a.Step);
        }
    }
}
