using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Datasets;

/// <summary>Every loader reads every record of the real sample files.</summary>
public class SharedDatasetTests
{
    [Theory]
    [InlineData("gsm8k", "test.jsonl", "gsm8k", 300)]
    [InlineData("gsm8k", "train.jsonl", "gsm8k", 1000)]
    [InlineData("math500", "test.jsonl", "math", 400)]
    [InlineData("arc_challenge", "test.jsonl", "arc", 300)]
    [InlineData("arc_challenge", "dev.jsonl", "arc", 299)]
    [InlineData("commonsenseqa", "dev.jsonl", "csqa", 300)]
    [InlineData("strategyqa", "examples.jsonl", "strategyqa", 300)]
    public void ReadsEveryRecordWithUniqueIds(string folder, string file, string format, int count)
    {
        var path = SharedData.Path(folder, file);
        var result = DatasetLoader.Load(path, format);

        Assert.Equal(count, result.Problems.Count);
        Assert.Empty(result.Skipped);
        Assert.Equal(count, result.Problems.Select(p => p.Id).Distinct().Count());
        Assert.All(result.Problems, p =>
        {
            Assert.Equal(format, p.Family);
            Assert.False(string.IsNullOrWhiteSpace(p.Question));
            Assert.False(string.IsNullOrWhiteSpace(p.Answer));
        });
        Assert.Equal(format, DatasetLoader.GuessFormat(path));
        Assert.Equal(result.Problems, DatasetLoader.Load(path, DatasetLoader.AutoFormat).Problems, ProblemComparer.Instance);
    }

    [Fact]
    public void Gsm8kTakesTheNumberAfterHashesAndDropsCalculatorAnnotations()
    {
        var problems = DatasetLoader.Load(SharedData.Path("gsm8k", "test.jsonl"), "gsm8k").Problems;

        var first = problems[0];
        Assert.Equal("gsm8k-test-1", first.Id);
        Assert.Equal(AnswerKind.Number, first.Kind);
        Assert.StartsWith("Janet\u2019s ducks lay 16 eggs per day.", first.Question);
        Assert.Equal("18", first.Answer);
        Assert.Equal(
            ["Janet sells 16 - 3 - 4 = 9 duck eggs a day.", "She makes 9 * 2 = $18 every day at the farmer\u2019s market.", "The answer is 18."],
            first.ReferenceSteps);

        Assert.Equal("70000", problems[2].Answer);
        Assert.Equal("So he made a profit of 200,000-130,000=$70,000", problems[2].ReferenceSteps![^2]);
        Assert.All(problems, p => Assert.Equal($"The answer is {p.Answer}.", p.ReferenceSteps![^1]));
        Assert.All(problems, p => Assert.DoesNotContain(p.ReferenceSteps!, s => s.Contains("<<") || s.Contains("####")));
        Assert.All(problems, p => Assert.Matches(@"^-?[0-9]+(\.[0-9]+)?$", p.Answer));
    }

    [Fact]
    public void Math500KeepsTheAnswerFieldAndUniqueId()
    {
        var problems = DatasetLoader.Load(SharedData.Path("math500", "test.jsonl"), "math").Problems;

        var first = problems[0];
        Assert.Equal("test/precalculus/807.json", first.Id);
        Assert.Equal(AnswerKind.Math, first.Kind);
        Assert.StartsWith("Convert the point $(0,3)$", first.Question);
        Assert.Equal(@"\left( 3, \frac{\pi}{2} \right)", first.Answer);
        Assert.StartsWith("We have that $r = ", first.ReferenceSteps![0]);
        Assert.All(problems, p => Assert.DoesNotContain(p.ReferenceSteps!, s => s.Contains('\n')));
    }

    [Fact]
    public void ArcNormalisesDigitLabelsToLetters()
    {
        var problems = DatasetLoader.Load(SharedData.Path("arc_challenge", "test.jsonl"), "arc").Problems
            .Concat(DatasetLoader.Load(SharedData.Path("arc_challenge", "dev.jsonl"), "arc").Problems).ToList();

        var first = problems[0];
        Assert.Equal("Mercury_7175875", first.Id);
        Assert.Equal(AnswerKind.Choice, first.Kind);
        Assert.Equal("C", first.Answer);
        Assert.Equal(new AnswerChoice("C", "Planetary days will become shorter."), first.Choices[2]);
        Assert.All(problems, p =>
        {
            Assert.All(p.Choices, c => Assert.Matches("^[A-E]$", c.Label));
            Assert.Contains(p.Answer, p.Choices.Select(c => c.Label));
        });
        // The samples hold 7 questions labelled 1-4, 4 with three choices and 1 with five.
        Assert.Equal(4, problems.Count(p => p.Choices.Count == 3));
        Assert.Equal(1, problems.Count(p => p.Choices.Count == 5));
    }

    [Fact]
    public void CommonsenseQaHasFiveLetteredChoices()
    {
        var problems = DatasetLoader.Load(SharedData.Path("commonsenseqa", "dev.jsonl"), "csqa").Problems;

        var first = problems[0];
        Assert.Equal("1afa02df02c908a558b4036e80242fac", first.Id);
        Assert.Equal("A revolving door is convenient for two direction travel, but it also serves as a security measure at a what?", first.Question);
        Assert.Equal("A", first.Answer);
        Assert.Equal(new AnswerChoice("E", "new york"), first.Choices[4]);
        Assert.All(problems, p => Assert.Equal(["A", "B", "C", "D", "E"], p.Choices.Select(c => c.Label)));
    }

    [Fact]
    public void StrategyQaAnswersComeFromTargetScores()
    {
        var problems = DatasetLoader.Load(SharedData.Path("strategyqa", "examples.jsonl"), "strategyqa").Problems;

        Assert.Equal("strategyqa-examples-1", problems[0].Id);
        Assert.Equal("Is it common to see frost during some college commencements?", problems[0].Question);
        Assert.Equal("yes", problems[0].Answer);
        Assert.Equal("no", problems[1].Answer);
        Assert.Equal(AnswerKind.YesNo, problems[1].Kind);
        Assert.Equal(133, problems.Count(p => p.Answer == "yes"));
        Assert.Equal(167, problems.Count(p => p.Answer == "no"));
    }

    /// <summary>Problem is a record, but its list properties compare by reference.</summary>
    internal sealed class ProblemComparer : IEqualityComparer<Problem>
    {
        public static readonly ProblemComparer Instance = new();

        public bool Equals(Problem? x, Problem? y) =>
            x is not null && y is not null
            && (x.Id, x.Family, x.Question, x.Answer, x.Kind) == (y.Id, y.Family, y.Question, y.Answer, y.Kind)
            && x.Choices.SequenceEqual(y.Choices)
            && (x.ReferenceSteps ?? []).SequenceEqual(y.ReferenceSteps ?? []);

        public int GetHashCode(Problem obj) => obj.Id.GetHashCode();
    }
}
