using System.Globalization;
using System.Text.RegularExpressions;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Judging;

/// <summary>How a reference step was broken.</summary>
public enum CorruptionKind
{
    /// <summary>arith: the equation's result changed, so the arithmetic is false.</summary>
    ChangedNumber,

    /// <summary>arith: another operation, correctly computed, whose result the reference chain never reaches.</summary>
    WrongOperation,

    /// <summary>arith: a quantity neither given nor derived put in place of the one the step starts from.</summary>
    InventedQuantity,

    /// <summary>arith: the next change applied to the quantity before this one, skipping a step; logic: a conclusion one hop past the cited rule.</summary>
    SkippedStep,

    /// <summary>logic: a rule the problem lacks, and the conclusion it would give.</summary>
    WrongHop,

    /// <summary>logic: the property rule's negation flipped in the conclusion.</summary>
    FlippedNegation,

    /// <summary>logic: a step that starts from a category not derived yet.</summary>
    UnsupportedPremise,

    /// <summary>The final answer replaced by a wrong one.</summary>
    WrongAnswer,

    /// <summary>arith: the step counts another object ("coins" in a problem about stamps).</summary>
    WrongObject,

    /// <summary>arith: a person the problem does not have.</summary>
    Stranger,

    /// <summary>arith: the change done with an amount the question never gives ("buys 6 more" for "buys 5 more").</summary>
    InventedChange,

    /// <summary>logic: a category the problem does not have, in place of the one the step starts from.</summary>
    UnknownCategory,

    /// <summary>logic: the property hop concludes another property than its rule gives.</summary>
    WrongProperty,

    /// <summary>
    /// logic: the property rule cited with its negation flipped, and concluded from ("Every yumpus is not fast" where the
    /// question says "Every yumpus is fast"): the binding error a small model makes, taking the polarity of the
    /// asked property's other rule, which belongs to another category.
    /// </summary>
    MisquotedRule,

    /// <summary>
    /// logic: another category of the question, not derived for the person yet, in place of the one the step starts from
    /// (another person's category in the first step, "Rex is a tumpus" where "Sam is a tumpus"): the other binding error.
    /// </summary>
    BorrowedCategory,
}

/// <summary>A reference step made wrong: which step of the reference solution, how, and the broken text.</summary>
public sealed record Corruption(CorruptionKind Kind, int StepIndex, string Original, string Step);

/// <summary>
/// Breaks reference steps of the built-in tasks in ways that are wrong by construction, without asking the judge: a
/// false equation, a result off the reference chain, a number absent from the question and the chain before the step,
/// a hop whose rule is not cited or not in the problem. Tests use them to check the judge; training uses them, labelled,
/// to teach self-evaluation what a wrong step looks like.
/// </summary>
public static partial class StepCorruptor
{
    public static IReadOnlyList<CorruptionKind> ArithKinds { get; } =
    [
        CorruptionKind.ChangedNumber, CorruptionKind.WrongOperation, CorruptionKind.InventedQuantity, CorruptionKind.SkippedStep, CorruptionKind.WrongAnswer,
        CorruptionKind.WrongObject, CorruptionKind.Stranger, CorruptionKind.InventedChange,
    ];

    public static IReadOnlyList<CorruptionKind> LogicKinds { get; } =
    [
        CorruptionKind.SkippedStep, CorruptionKind.WrongHop, CorruptionKind.FlippedNegation, CorruptionKind.UnsupportedPremise, CorruptionKind.WrongAnswer,
        CorruptionKind.UnknownCategory, CorruptionKind.WrongProperty, CorruptionKind.MisquotedRule, CorruptionKind.BorrowedCategory,
    ];

    /// <summary>A random corruption of a random step of the problem's reference solution; null if a few tries find none.</summary>
    public static Corruption? Any(Problem problem, Random random)
    {
        var steps = problem.ReferenceSteps ?? throw new ArgumentException($"problem {problem.Id} has no reference steps");
        var kinds = problem.Family == Tasks.BuiltinTasks.Arith ? ArithKinds : LogicKinds;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            var kind = kinds[random.Next(kinds.Count)];
            if (Corrupt(problem, random.Next(steps.Count), kind, random) is { } corruption) return corruption;
        }
        return null;
    }

    /// <summary>Reference step <paramref name="index"/> broken the given way, or null when that step cannot be broken so.</summary>
    public static Corruption? Corrupt(Problem problem, int index, CorruptionKind kind, Random random)
    {
        var steps = problem.ReferenceSteps ?? throw new ArgumentException($"problem {problem.Id} has no reference steps");
        var original = steps[index];
        bool isAnswer = index == steps.Count - 1;
        if (kind == CorruptionKind.WrongAnswer)
            return isAnswer ? new Corruption(kind, index, original, $"The answer is {WrongAnswer(problem, random)}.") : null;
        if (isAnswer) return null;
        string? broken = problem.Family switch
        {
            Tasks.BuiltinTasks.Arith => Arith(problem, steps, index, kind, random),
            Tasks.BuiltinTasks.Logic => Logic(problem, steps, index, kind, random),
            _ => throw new ArgumentException($"problem {problem.Id}: no corruptions for family '{problem.Family}'"),
        };
        return broken is null || broken == original ? null : new Corruption(kind, index, original, broken);
    }

    private static string WrongAnswer(Problem problem, Random random)
    {
        if (problem.Kind == AnswerKind.YesNo) return problem.Answer == "yes" ? "no" : "yes";
        var answer = int.Parse(problem.Answer, CultureInfo.InvariantCulture);
        int wrong;
        do wrong = Math.Max(0, answer + random.Next(-5, 6)); while (wrong == answer);
        return wrong.ToString(CultureInfo.InvariantCulture);
    }

    // ---- arith: each reference step has one equation "a op b = r" ----

    private sealed record Equation(Match Match, int A, char Op, int B, int Result);

    private static Equation? EquationOf(string step) =>
        ArithEquationRegex().Match(step) is { Success: true } m
            ? new Equation(m, Int(m, "a"), m.Groups["op"].Value[0], Int(m, "b"), Int(m, "r"))
            : null;

    private static string? Arith(Problem problem, IReadOnlyList<string> steps, int index, CorruptionKind kind, Random random)
    {
        if (EquationOf(steps[index]) is not { } eq) return null;
        var chain = steps.Select(EquationOf).OfType<Equation>().Select(e => e.Result).ToHashSet();
        var given = NumberRegex().Matches(problem.Question).Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture)).ToHashSet();
        var derivedBefore = steps.Take(index).Select(EquationOf).OfType<Equation>().Select(e => e.Result).ToHashSet();
        var text = steps[index];
        switch (kind)
        {
            case CorruptionKind.ChangedNumber:
            {
                int wrong;
                do wrong = eq.Result + random.Next(-3, 4); while (wrong == eq.Result || wrong < 0);
                return Replace(text, eq.Match.Groups["r"], wrong);
            }
            case CorruptionKind.WrongOperation:
            {
                foreach (var op in new[] { '+', '-', '*' }.Where(o => o != eq.Op).OrderBy(_ => random.Next()))
                {
                    int result = Apply(eq.A, op, eq.B);
                    if (result >= 0 && !chain.Contains(result))
                        return text[..eq.Match.Index] + $"{eq.A} {op} {eq.B} = {result}" + text[(eq.Match.Index + eq.Match.Length)..];
                }
                return null;
            }
            case CorruptionKind.InventedQuantity:
            {
                // A start that the question never gives and no step before this one derived, kept exact for division.
                var candidates = Enumerable.Range(2, 40).Select(k => eq.Op == '/' ? k * eq.B : k)
                    .Where(a => a != eq.A && !given.Contains(a) && !derivedBefore.Contains(a) && Apply(a, eq.Op, eq.B) >= 0).ToList();
                if (candidates.Count == 0) return null;
                int invented = candidates[random.Next(candidates.Count)];
                int result = Apply(invented, eq.Op, eq.B);
                var equation = text[..eq.Match.Index] + $"{invented} {eq.Op} {eq.B} = {result}" + text[(eq.Match.Index + eq.Match.Length)..];
                // The restated start ("Ravi has 9 stamps and ...") says the invented amount too.
                var restated = new Regex($@"\bhas {eq.A} ").Match(equation);
                return restated.Success && restated.Index < eq.Match.Index
                    ? equation[..restated.Index] + $"has {invented} " + equation[(restated.Index + restated.Length)..]
                    : equation;
            }
            case CorruptionKind.SkippedStep:
            {
                // This step's text with the next change applied to the quantity before this step.
                if (index + 1 >= steps.Count || EquationOf(steps[index + 1]) is not { } next || next.A != eq.Result) return null;
                if (eq.Match.Value.Length == 0) return null;
                int result = Apply(eq.A, next.Op, next.B);
                if (result < 0 || (next.Op == '/' && eq.A % next.B != 0) || chain.Contains(result)) return null;
                var nextText = steps[index + 1];
                return nextText[..next.Match.Index] + $"{eq.A} {next.Op} {next.B} = {result}" + nextText[(next.Match.Index + next.Match.Length)..];
            }
            case CorruptionKind.WrongObject:
            {
                var counted = ObjectRegex().Match(problem.Question).Groups["obj"].Value;
                var others = Tasks.ArithGenerator.ObjectNames.Where(o => o != counted && !problem.Question.Contains(o)).ToList();
                if (counted.Length == 0 || !text.Contains(counted) || others.Count == 0) return null;
                return new Regex($@"\b{counted}\b").Replace(text, others[random.Next(others.Count)]);
            }
            case CorruptionKind.Stranger:
            {
                var named = NameRegex().Matches(text).Select(m => m.Value).FirstOrDefault(n => Tasks.ArithGenerator.PersonNames.Contains(n));
                var strangers = Tasks.ArithGenerator.PersonNames.Where(n => !problem.Question.Contains(n)).ToList();
                if (named is null || strangers.Count == 0) return null;
                return new Regex($@"\b{named}\b").Replace(text, strangers[random.Next(strangers.Count)], 1);
            }
            case CorruptionKind.InventedChange:
            {
                // The change's own amount, where the text states it ("buys 5 more", "3 times as many"): replaced in both places.
                var stated = new Regex($@"\b{eq.B}\b").Matches(text).FirstOrDefault(m => m.Index < eq.Match.Index);
                if (stated is null || text.StartsWith("Together", StringComparison.Ordinal)) return null;
                var amounts = Enumerable.Range(2, 12).Where(b => b != eq.B && !given.Contains(b) && Apply(eq.A, eq.Op, b) >= 0).ToList();
                if (amounts.Count == 0) return null;
                int amount = amounts[random.Next(amounts.Count)];
                var equation = $"{eq.A} {eq.Op} {amount} = {Apply(eq.A, eq.Op, amount)}";
                return text[..stated.Index] + amount + text[(stated.Index + stated.Length)..eq.Match.Index] + equation + text[(eq.Match.Index + eq.Match.Length)..];
            }
            default:
                return null;
        }
    }

    private static int Apply(int a, char op, int b) => op switch
    {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        _ => b != 0 && a % b == 0 ? a / b : -1,
    };

    private static string Replace(string text, Group group, int value) =>
        text[..group.Index] + value.ToString(CultureInfo.InvariantCulture) + text[(group.Index + group.Length)..];

    private static int Int(Match m, string group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    // ---- logic: each reference step is "X is a C. Every C is a D. So X is a D." or the property hop ----

    private static string? Logic(Problem problem, IReadOnlyList<string> steps, int index, CorruptionKind kind, Random random)
    {
        var hops = steps.Take(steps.Count - 1).Select(s => LogicHopRegex().Match(s)).ToList();
        if (hops.Any(h => !h.Success)) return null;
        var hop = hops[index];
        string person = hop.Groups["x"].Value, from = hop.Groups["c"].Value;
        bool isPropertyHop = !hop.Groups["a"].Success;
        var rules = EveryRegex().Matches(problem.Question).Select(m => (m.Groups["c"].Value, m.Groups["d"].Value)).ToHashSet();
        var categories = IsAOrEveryRegex().Matches(problem.Question).SelectMany(m => new[] { m.Groups["c"].Value, m.Groups["d"].Value })
            .Where(w => w.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
        var premise = $"{person} is a {from}. {hop.Groups["rule"].Value}.";
        switch (kind)
        {
            case CorruptionKind.SkippedStep:
                // Conclude what the next hop would: a category or property its rule is not cited for.
                if (index + 1 >= hops.Count) return null;
                return $"{premise} So {hops[index + 1].Groups["concl"].Value}.";
            case CorruptionKind.WrongHop:
            {
                var targets = categories.Where(d => d != from && !rules.Contains((from, d)) && d != hop.Groups["t"].Value).ToList();
                if (targets.Count == 0) return null;
                var d = targets[random.Next(targets.Count)];
                return $"{person} is a {from}. Every {from} is a {d}. So {person} is a {d}.";
            }
            case CorruptionKind.FlippedNegation:
            {
                if (!isPropertyHop) return null;
                var property = hop.Groups["t"].Value;
                bool negated = hop.Groups["not"].Success;
                return $"{premise} So {person} is {(negated ? "" : "not ")}{property}.";
            }
            case CorruptionKind.UnsupportedPremise:
                // The next hop's step in place of this one: its first fact is not derived yet.
                return index + 1 < hops.Count ? steps[index + 1] : null;
            case CorruptionKind.UnknownCategory:
            {
                var strangers = Tasks.LogicGenerator.CategoryNames.Where(c => !problem.Question.Contains(c)).ToList();
                if (strangers.Count == 0) return null;
                return new Regex($@"\b{from}\b").Replace(steps[index], strangers[random.Next(strangers.Count)]);
            }
            case CorruptionKind.WrongProperty:
            {
                if (!isPropertyHop) return null;
                var property = hop.Groups["t"].Value;
                var others = Tasks.LogicGenerator.PropertyNames.Where(p => p != property).ToList();
                var other = others[random.Next(others.Count)];
                return $"{premise} So {person} is {(hop.Groups["not"].Success ? "not " : "")}{other}.";
            }
            case CorruptionKind.MisquotedRule:
            {
                if (!isPropertyHop) return null;
                var property = hop.Groups["t"].Value;
                var not = hop.Groups["not"].Success ? "" : "not ";
                return $"{person} is a {from}. Every {from} is {not}{property}. So {person} is {not}{property}.";
            }
            case CorruptionKind.BorrowedCategory:
            {
                // Not one the person is already known to be: the premise would then hold.
                var derived = hops.Take(index + 1).Select(h => h.Groups["c"].Value).ToHashSet();
                var borrowed = categories.Where(c => !derived.Contains(c)).ToList();
                if (borrowed.Count == 0) return null;
                return new Regex($@"\b{from}\b").Replace(steps[index], borrowed[random.Next(borrowed.Count)]);
            }
            default:
                return null;
        }
    }

    [GeneratedRegex(@"(?<a>\d+) (?<op>[-+*/]) (?<b>\d+) = (?<r>\d+)")]
    private static partial Regex ArithEquationRegex();

    [GeneratedRegex(@"\d+")]
    private static partial Regex NumberRegex();

    [GeneratedRegex(@"How many (?<obj>[a-z]+) ")]
    private static partial Regex ObjectRegex();

    [GeneratedRegex(@"\b[A-Z][a-z]+\b")]
    private static partial Regex NameRegex();

    [GeneratedRegex(@"^(?<x>\w+) is a (?<c>\w+)\. (?<rule>Every \k<c> is (?<not>not )?(?<a>a )?(?<t>\w+))\. So (?<concl>\k<x> is (?:not )?(?:a )?\k<t>)\.$")]
    private static partial Regex LogicHopRegex();

    [GeneratedRegex(@"Every (?<c>\w+) is a (?<d>\w+)\.")]
    private static partial Regex EveryRegex();

    [GeneratedRegex(@"(?:Every (?<c>\w+) is a (?<d>\w+)|\w+ is a (?<d>\w+))\.")]
    private static partial Regex IsAOrEveryRegex();
}
