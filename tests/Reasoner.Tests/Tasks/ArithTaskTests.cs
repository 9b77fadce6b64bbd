using System.Text.RegularExpressions;
using Reasoner.Core.Tasks;

namespace Reasoner.Tests.Tasks;

public partial class ArithTaskTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void GoldStepsComputeTheAnswerFromTheQuestionsNumbers(int difficulty)
    {
        var options = ArithOptions.ForDifficulty(difficulty);
        var problems = BuiltinTasks.Generate("arith", Split.Train, seed: 5, difficulty).Take(2000).ToList();

        foreach (var problem in problems)
        {
            var steps = problem.ReferenceSteps!;
            var stepCount = steps.Count - 1;
            Assert.InRange(stepCount, options.MinSteps, options.MaxSteps);
            var questionNumbers = Numbers(problem.Question);
            var results = new List<int>();
            foreach (var step in steps.Take(stepCount))
            {
                var equation = Assert.Single(Equation().Matches(step));
                var (left, op, right, result) = (Int(equation, 1), equation.Groups[2].Value, Int(equation, 3), Int(equation, 4));
                Assert.Equal(op switch { "+" => left + right, "-" => left - right, "*" => left * right, _ => left / right }, result);
                if (op == "/") Assert.Equal(0, left % right);
                Assert.InRange(result, 2, options.MaxResult);
                // Each step works on numbers it was given or computed, never on invented ones.
                Assert.True(questionNumbers.Contains(left) || results.Contains(left), $"{left} comes from nowhere in: {step}");
                Assert.True(questionNumbers.Contains(right) || results.Contains(right), $"{right} comes from nowhere in: {step}");
                results.Add(result);
            }
            Assert.Equal(results[^1].ToString(), problem.Answer);
            Assert.EndsWith("?", problem.Question);
        }
        // Uniform step counts: every allowed count is common, so the set mixes easy and hard problems.
        var counts = problems.GroupBy(p => p.ReferenceSteps!.Count - 1).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Enumerable.Range(options.MinSteps, options.MaxSteps - options.MinSteps + 1), counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.True(c > problems.Count / (2 * counts.Count), $"step counts {string.Join(",", counts)}"));
    }

    [Fact]
    public void OperandsRespectTheOptions()
    {
        var options = new ArithOptions { MinSteps = 3, MaxSteps = 3, MaxOperand = 6, MaxFactor = 2, MaxResult = 12 };

        var problems = BuiltinTasks.Generate(options, Split.Train, seed: 3).Take(500).ToList();

        Assert.All(problems, p => Assert.Equal(4, p.ReferenceSteps!.Count));
        // "Together they have a + b" adds two amounts, not an operand, so only the changes are checked.
        var equations = problems.SelectMany(p => p.ReferenceSteps!).Where(s => !s.StartsWith("Together")).SelectMany(s => Equation().Matches(s)).ToList();
        Assert.All(equations, e =>
        {
            var (left, op, right) = (Int(e, 1), e.Groups[2].Value, Int(e, 3));
            Assert.InRange(Int(e, 4), 2, 12);
            if (op is "*" or "/") Assert.True(left == 2 || right == 2, e.Value);
            else Assert.InRange(right, 2, 6);
        });
    }

    [Fact]
    public void FirstStepRestatesAPlainStartingAmount()
    {
        var problem = BuiltinTasks.Generate("arith", Split.Train, seed: 11).First(p => Regex.IsMatch(p.Question, "^[A-Z][a-z]+ has [0-9]+ [a-z]+\\. [HS]he "));
        var name = problem.Question.Split(' ')[0];
        var start = problem.Question.Split(' ')[2];

        Assert.StartsWith($"{name} has {start} ", problem.ReferenceSteps![0]);
        Assert.Contains($", so ", problem.ReferenceSteps[0]);
    }

    [Fact]
    public void AStreamOfFiveThousandTestProblemsHoldsDistinctProblemsWithTheirSolutions()
    {
        var problems = BuiltinTasks.Generate("arith", Split.Test, seed: 9).Take(5000).ToList();

        Assert.Equal(5000, problems.Count);
        Assert.Equal(5000, problems.Select(p => p.Id).Distinct().Count());
        Assert.All(problems, p => Assert.EndsWith($"The answer is {p.Answer}.", p.ReferenceSteps![^1]));
    }

    private static HashSet<int> Numbers(string text) => Number().Matches(text).Select(m => int.Parse(m.Value)).ToHashSet();

    private static int Int(Match match, int group) => int.Parse(match.Groups[group].Value);

    [GeneratedRegex(@"(\d+) ([-+*/]) (\d+) = (\d+)")]
    private static partial Regex Equation();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Number();
}
