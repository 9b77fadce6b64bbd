using System.Text.RegularExpressions;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;

namespace Reasoner.Tests.Tasks;

public partial class LogicTaskTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ForwardChainingFromTheQuestionAloneGivesTheAnswer(int difficulty)
    {
        var options = LogicOptions.ForDifficulty(difficulty);
        var problems = BuiltinTasks.Generate("logic", Split.Train, seed: 5, difficulty).Take(1000).ToList();

        foreach (var problem in problems)
        {
            var world = Parse(problem);
            var categories = Closure(world, world.Facts.Where(f => f.Person == world.Person).Select(f => f.Category));
            var values = world.PropertyRules.Where(r => r.Property == world.Property && categories.Contains(r.Category)).Select(r => r.Holds).Distinct().ToList();
            Assert.Equal(problem.Answer == "yes", Assert.Single(values));
            Assert.Equal(options.Distractors, world.Statements.Count - (problem.ReferenceSteps!.Count - 1) - 1);
            // A distractor must never make anything both P and not P.
            foreach (var category in world.Rules.SelectMany(r => new[] { r.Category, r.Parent }).Concat(world.Facts.Select(f => f.Category)).Concat(world.PropertyRules.Select(r => r.Category)).Distinct())
            {
                var reached = Closure(world, [category]);
                var derived = world.PropertyRules.Where(r => reached.Contains(r.Category));
                Assert.All(derived.GroupBy(r => r.Property), g => Assert.Single(g.Select(r => r.Holds).Distinct()));
            }
        }
        Assert.InRange(problems.Count(p => p.Answer == "yes"), 400, 600);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void GoldStepsApplyOneStatedRuleEachAndReachTheQuestion(int difficulty)
    {
        var options = LogicOptions.ForDifficulty(difficulty);

        foreach (var problem in BuiltinTasks.Generate("logic", Split.Train, seed: 6, difficulty).Take(1000))
        {
            var world = Parse(problem);
            var steps = problem.ReferenceSteps!;
            var hops = steps.Count - 1;
            Assert.InRange(hops, options.MinHops, options.MaxHops);
            var known = $"{world.Person} is a {world.Facts.Single(f => f.Person == world.Person).Category}.";
            Assert.Contains(known, world.Statements);
            foreach (var step in steps.Take(hops))
            {
                var deduction = StepPattern().Match(step);
                Assert.True(deduction.Success, step);
                var (rule, category) = (deduction.Groups["rule"].Value, deduction.Groups["category"].Value);
                Assert.Equal(known, deduction.Groups["known"].Value);
                Assert.Contains(rule, world.Statements);
                Assert.EndsWith($" is a {category}.", known);
                Assert.StartsWith($"Every {category} is ", rule);
                known = $"{world.Person} is {rule[$"Every {category} is ".Length..]}";
                Assert.Equal(known, deduction.Groups["conclusion"].Value);
            }
            var not = problem.Answer == "yes" ? "" : "not ";
            Assert.Equal($"{world.Person} is {not}{world.Property}.", known);
        }
    }

    [Fact]
    public void FirstDistractorGivesTheAskedPropertyTheOppositeValue()
    {
        Assert.All(BuiltinTasks.Generate("logic", Split.Train, seed: 8).Take(300), problem =>
        {
            var world = Parse(problem);
            Assert.Contains(world.PropertyRules, r => r.Property == world.Property && r.Holds != (problem.Answer == "yes"));
        });
    }

    [Fact]
    public void WithoutTheContestedDistractorOnlyTheChainsRuleNamesTheAskedProperty()
    {
        var options = LogicOptions.ForDifficulty(2) with { Contested = false };
        Assert.All(BuiltinTasks.Generate(options, Split.Train, seed: 8).Take(300), problem =>
        {
            var world = Parse(problem);
            var rule = Assert.Single(world.PropertyRules, r => r.Property == world.Property);
            Assert.Equal(problem.Answer == "yes", rule.Holds);
            Assert.Equal(options.Distractors, world.Statements.Count - (problem.ReferenceSteps!.Count - 1) - 1);
        });
        // Their test-split counterpart of the test set: test problems, uncontested, none of them in the test set.
        var uncontested = BuiltinTasks.UncontestedLogicTestProblems();
        Assert.Equal(BuiltinTasks.TestSetSize, uncontested.Count);
        Assert.All(uncontested.Take(100), p => Assert.Single(Parse(p).PropertyRules, r => r.Property == Parse(p).Property));
        Assert.Empty(uncontested.Select(p => p.Id).Intersect(BuiltinTasks.TestSet("logic").Select(p => p.Id)));
    }

    private sealed record Fact(string Person, string Category);
    private sealed record Rule(string Category, string Parent);
    private sealed record PropertyRule(string Category, string Property, bool Holds);
    private sealed record World(string Person, string Property, List<string> Statements, List<Fact> Facts, List<Rule> Rules, List<PropertyRule> PropertyRules);

    /// <summary>Reads the question back into facts and rules, independently of the generator's own types.</summary>
    private static World Parse(Problem problem)
    {
        var ask = AskPattern().Match(problem.Question);
        Assert.True(ask.Success, problem.Question);
        var statements = SentencePattern().Matches(problem.Question[..ask.Index]).Select(m => m.Value.Trim()).ToList();
        var world = new World(ask.Groups[1].Value, ask.Groups[2].Value, statements, [], [], []);
        foreach (var sentence in statements)
        {
            if (RulePattern().Match(sentence) is { Success: true } rule) world.Rules.Add(new(rule.Groups[1].Value, rule.Groups[2].Value));
            else if (PropertyPattern().Match(sentence) is { Success: true } has) world.PropertyRules.Add(new(has.Groups[1].Value, has.Groups[3].Value, has.Groups[2].Value == ""));
            else if (FactPattern().Match(sentence) is { Success: true } fact) world.Facts.Add(new(fact.Groups[1].Value, fact.Groups[2].Value));
            else Assert.Fail($"unexpected sentence '{sentence}' in {problem.Question}");
        }
        Assert.Equal(problem.Question.Length, ask.Index + ask.Length);
        return world;
    }

    private static HashSet<string> Closure(World world, IEnumerable<string> start)
    {
        var reached = start.ToHashSet();
        while (world.Rules.Where(r => reached.Contains(r.Category)).Select(r => r.Parent).Where(reached.Add).ToList().Count > 0) { }
        return reached;
    }

    [GeneratedRegex(@"[^.?]+\.")]
    private static partial Regex SentencePattern();

    [GeneratedRegex(@"Is ([A-Z][a-z]+) ([a-z]+)\?$")]
    private static partial Regex AskPattern();

    [GeneratedRegex(@"^Every ([a-z]+) is an? ([a-z]+)\.$")]
    private static partial Regex RulePattern();

    [GeneratedRegex(@"^Every ([a-z]+) is (not )?([a-z]+)\.$")]
    private static partial Regex PropertyPattern();

    [GeneratedRegex(@"^([A-Z][a-z]+) is an? ([a-z]+)\.$")]
    private static partial Regex FactPattern();

    [GeneratedRegex(@"^(?<known>[A-Z][a-z]+ is an? [a-z]+\.) (?<rule>Every (?<category>[a-z]+) is (?:an? |not )?[a-z]+\.) So (?<conclusion>[A-Z][a-z]+ is (?:an? |not )?[a-z]+\.)$")]
    private static partial Regex StepPattern();
}
