using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;

namespace Reasoner.Tests.Datasets;

/// <summary>Each loader names the file, line and field of a bad record, and skips exactly the bad ones when asked.</summary>
public class MalformedLineTests
{
    private const string GoodGsm8k = """{"question": "Sam has 2 cats and gets 1 more. How many cats?", "answer": "He has 2+1=<<2+1=3>>3 cats.\n#### 3"}""";
    private const string GoodMath = """{"problem": "What is $1+1$?", "solution": "We get $\\boxed{2}$.", "unique_id": "test/algebra/1.json"}""";
    private const string GoodArc = """{"id": "q1", "question": {"stem": "Which is a gas?", "choices": [{"text": "ice", "label": "A"}, {"text": "steam", "label": "B"}]}, "answerKey": "B"}""";
    private const string GoodCsqa = """{"answerKey": "A", "id": "c1", "question": {"question_concept": "x", "choices": [{"label": "A", "text": "bank"}, {"label": "B", "text": "mall"}], "stem": "Where is money kept?"}}""";
    private const string GoodStrategyQa = """{"input": "Is water wet?", "target_scores": {"Yes": 1, "No": 0}, "target": "Yes. Water is wet."}""";
    private const string GoodProblem = """{"id": "p1", "family": "arith", "question": "What is 2 + 3?", "answer": "5", "kind": "number"}""";

    public static TheoryData<string, string, string, string, string> BadLines => new()
    {
        // format, good line, bad line, expected field (empty when the line is not a JSON object), reason fragment
        { "gsm8k", GoodGsm8k, """{"question": "How many?", "answer": "He has 3 cats."}""", "answer", "has no '#### <answer>' line" },
        { "gsm8k", GoodGsm8k, """{"question": "", "answer": "#### 3"}""", "question", "is empty" },
        { "gsm8k", GoodGsm8k, """{"question": "How many?", "answer": 3}""", "answer", "must be a string, not a number" },
        { "gsm8k", GoodGsm8k, """{"question": "How many?", "answer": "#### 3" """, "", "invalid JSON" },
        { "gsm8k", GoodGsm8k, """["question", "answer"]""", "", "not an object" },
        { "math", GoodMath, """{"problem": "What is $2+2$?", "solution": "It is 4."}""", "solution", "has no \\boxed{...} answer" },
        { "math", GoodMath, """{"problem": "What is $2+2$?", "solution": "It is $\\boxed{4$."}""", "solution", "has no \\boxed{...} answer" },
        { "math", GoodMath, """{"solution": "$\\boxed{4}$"}""", "problem", "is missing" },
        { "math", GoodMath, """{"problem": "Again?", "solution": "$\\boxed{2}$", "unique_id": "test/algebra/1.json"}""", "id", "repeats the id of line 1" },
        { "arc", GoodArc, """{"id": "q2", "question": {"stem": "Which?", "choices": [{"text": "a", "label": "A"}, {"text": "b", "label": "B"}]}, "answerKey": "E"}""", "answerKey", "'E' is not among the choice labels A,B" },
        { "arc", GoodArc, """{"id": "q2", "question": {"stem": "Which?", "choices": [{"text": "a", "label": "A"}, {"label": "B"}]}, "answerKey": "A"}""", "question.choices[1].text", "is missing" },
        { "arc", GoodArc, """{"id": "q2", "question": "Which?", "answerKey": "A"}""", "question", "must be an object, not a string" },
        { "csqa", GoodCsqa, """{"answerKey": "A", "id": "c2", "question": {"choices": [{"label": "A", "text": "x"}, {"label": "B", "text": "y"}], "stem": " "}}""", "question.stem", "is empty" },
        { "csqa", GoodCsqa, """{"answerKey": "A", "id": "c2", "question": {"choices": [{"label": "A", "text": "x"}, {"label": "A", "text": "y"}], "stem": "Why?"}}""", "question.choices[1].label", "repeats label 'A'" },
        { "strategyqa", GoodStrategyQa, """{"input": "Is fire cold?", "target_scores": {"Yes": 0}}""", "target_scores.No", "is missing" },
        { "strategyqa", GoodStrategyQa, """{"input": "Is fire cold?", "target_scores": {"Yes": 0, "No": 0}}""", "target_scores", "scores Yes and No equally" },
        { "strategyqa", GoodStrategyQa, """{"input": "Is fire cold?", "target_scores": {"Yes": 1, "No": 0}, "target": "No. It is hot."}""", "target", "says 'no'" },
        { "problems", GoodProblem, """{"id": "p2", "family": "arith", "question": "What?", "answer": "5", "kind": "integer"}""", "kind", "'integer' is not one of" },
        { "problems", GoodProblem, """{"id": "p2", "family": "arith", "question": "What?", "answer": "5", "kind": "1"}""", "kind", "'1' is not one of" },
        { "problems", GoodProblem, """{"id": "p2", "family": "csqa", "question": "What?", "answer": "C", "kind": "Choice", "choices": [{"label": "A", "text": "x"}]}""", "answer", "'C' is not among the choice labels" },
        { "problems", GoodProblem, """{"id": "p2", "family": "logic", "question": "Is it?", "answer": "maybe", "kind": "YesNo"}""", "answer", "must be yes or no" },
        { "problems", GoodProblem, """{"id": "p2", "family": "arith", "question": "What?", "answer": "5", "kind": "Number", "referenceSteps": ["a", 2]}""", "referenceSteps[1]", "must be a string" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void BadLineNamesFileLineAndField(string format, string good, string bad, string field, string reason)
    {
        using var file = new TempDataset($"{format}-sample.jsonl", good, "", bad, good.Replace("1", "9"));

        var error = Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load(file.Path, format)).Error!;

        Assert.Equal(file.Path, error.File);
        Assert.Equal(3, error.Line);
        Assert.Equal(field == "" ? null : field, error.Field);
        Assert.Contains(reason, error.Reason);
        Assert.StartsWith($"{file.Path}:3: ", error.Message);
        if (field != "") Assert.Contains($"field '{field}' ", error.Message);
    }

    [Theory]
    [MemberData(nameof(BadLines))]
    public void SkipInvalidKeepsTheGoodLinesAndRecordsTheBadOne(string format, string good, string bad, string field, string reason)
    {
        using var file = new TempDataset($"{format}-sample.jsonl", good, bad, "   ", bad, good.Replace("1", "9"));

        var result = DatasetLoader.Load(file.Path, format, skipInvalid: true);

        Assert.Equal(2, result.Problems.Count);
        Assert.Equal([2, 4], result.Skipped.Select(s => s.Line));
        Assert.All(result.Skipped, s =>
        {
            Assert.Equal(field == "" ? null : field, s.Field);
            Assert.Contains(reason, s.Reason);
        });
    }

    [Fact]
    public void SourcesWithoutIdsGetFamilyFileStemAndLine()
    {
        using var file = new TempDataset("mini.jsonl", "", GoodGsm8k, GoodGsm8k);

        var problems = DatasetLoader.Load(file.Path, "gsm8k").Problems;

        Assert.Equal(["gsm8k-mini-2", "gsm8k-mini-3"], problems.Select(p => p.Id));
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dataset.jsonl");
        var error = Assert.Throws<FileNotFoundException>(() => DatasetLoader.Load(path, "gsm8k"));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void EmptyFileIsAnError()
    {
        using var file = new TempDataset("empty.jsonl", "", "  ");
        Assert.Contains("no records", Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load(file.Path, "gsm8k")).Message);
    }

    [Fact]
    public void UnknownFormatListsTheKnownOnes()
    {
        using var file = new TempDataset("a.jsonl", GoodGsm8k);
        var error = Assert.Throws<ArgumentException>(() => DatasetLoader.Load(file.Path, "squad"));
        Assert.Contains("gsm8k, math, arc, csqa, strategyqa, problems", error.Message);
    }

    [Theory]
    [InlineData(GoodGsm8k, "gsm8k")]
    [InlineData(GoodMath, "math")]
    [InlineData(GoodArc, "arc")]
    [InlineData(GoodCsqa, "csqa")]
    [InlineData(GoodStrategyQa, "strategyqa")]
    [InlineData(GoodProblem, "problems")]
    public void AutoGuessesTheFormatFromTheFirstRecord(string line, string format)
    {
        using var file = new TempDataset("guess.jsonl", "", line);
        Assert.Equal(format, DatasetLoader.GuessFormat(file.Path));
        Assert.Single(DatasetLoader.Load(file.Path).Problems);
    }

    [Fact]
    public void AutoRefusesARecordItCannotPlace()
    {
        using var file = new TempDataset("odd.jsonl", """{"text": "hello"}""");
        var error = Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load(file.Path));
        Assert.Contains($"{file.Path}:1: cannot guess", error.Message);
    }

    [Fact]
    public void ProblemJsonlRoundTrips()
    {
        Problem[] problems =
        [
            new("a-1", "arith", "Tom has 2 \"red\" apples.", "2", AnswerKind.Number) { ReferenceSteps = ["Tom has 2 apples.", "The answer is 2."] },
            new("c-1", "csqa", "Where?", "B", AnswerKind.Choice) { Choices = [new("A", "bank"), new("B", "mall")] },
            new("y-1", "logic", "Is it?", "yes", AnswerKind.YesNo),
        ];
        using var file = new TempDataset("problems.jsonl");
        ProblemJsonl.Save(file.Path, problems);

        Assert.Contains("\"kind\":\"Choice\"", File.ReadAllText(file.Path));
        Assert.Equal(problems, DatasetLoader.Load(file.Path, "problems").Problems, SharedDatasetTests.ProblemComparer.Instance);
    }

    [Fact]
    public void ProblemsWithoutIdUseTheFamilyAndYesNoAnswersAreLowerCase()
    {
        using var file = new TempDataset("mine.jsonl", """{"family": "logic", "question": "Is it?", "answer": "Yes", "kind": "yesno"}""");

        var problem = Assert.Single(DatasetLoader.Load(file.Path, "problems").Problems);

        Assert.Equal("logic-mine-1", problem.Id);
        Assert.Equal("yes", problem.Answer);
        Assert.Equal(AnswerKind.YesNo, problem.Kind);
    }
}
