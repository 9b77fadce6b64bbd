using System.Text.RegularExpressions;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using static Reasoner.Core.Judging.ArithmeticText;

namespace Reasoner.Core.Judging;

/// <summary>The quantities an arith solution's sound steps have derived, and the computations they wrote.</summary>
public sealed record ArithState(IReadOnlyList<double> Derived, IReadOnlyList<string> Computations) : SolutionState;

/// <summary>
/// Gold labels for the built-in arith task. A step is valid when every equation in it is true arithmetic over
/// quantities the problem gives or that earlier sound steps derived, and its result (the last equation's) is a
/// quantity the reference chain computes; a step that merges reference steps, or takes them in another order, is
/// therefore valid when it lands on the chain. Its words must say what the problem says: clauses of the task's
/// grammar, about the problem's people and objects, with holdings and changes the problem states ("buys 5 more"),
/// and an equation that does the change it describes. Neutral: no equation, or only computations already made, with
/// every number given or derived. The answer step is correct when its number matches the reference and a sound step
/// derived it; a right number never derived is a guess, and invalid.
/// </summary>
public sealed partial class ArithStepJudge : IStepJudge
{
    private readonly Problem _problem;
    private readonly double[] _given;
    private readonly double[] _chain;
    private readonly List<string> _referenceComputations;
    private readonly HashSet<string> _people = new(StringComparer.Ordinal);
    private readonly string _object;
    private readonly List<Clause> _stated = [];

    public ArithStepJudge(Problem problem)
    {
        if (problem.ReferenceSteps is not { Count: > 0 } reference)
            throw new ArgumentException($"problem {problem.Id}: arith gold labels need the reference steps, and it has none");
        _problem = problem;
        _given = [.. Numbers(problem.Question).Distinct()];
        var referenceEquations = reference.SelectMany(step => Read(step).Equations).ToList();
        _chain = [.. referenceEquations.Select(e => e.Value).Distinct()];
        _referenceComputations = [.. referenceEquations.Select(e => e.Canonical)];
        if (_chain.Length == 0)
            throw new ArgumentException($"problem {problem.Id}: its reference steps hold no equation to judge against");
        var (clauses, unparsed) = ArithClauses.Parse(problem.Question);
        if (unparsed is not null)
            throw new ArgumentException($"problem {problem.Id}: '{unparsed}' is not an arith question clause");
        foreach (var clause in clauses)
        {
            foreach (var name in new[] { clause.Who, clause.Other })
                if (name is not null && !ArithClauses.IsPronoun(name)) _people.Add(name);
            if (clause.Kind is ClauseKind.Holding or ClauseKind.Groups or ClauseKind.Change) _stated.Add(clause);
        }
        _object = clauses.FirstOrDefault(c => c.Kind == ClauseKind.Question)?.Object
            ?? throw new ArgumentException($"problem {problem.Id}: the question asks no 'How many …'");
    }

    /// <summary>Numbers in the question: the quantities a solution may start from.</summary>
    public IReadOnlyList<double> Given => _given;

    /// <summary>The results of the reference solution's equations.</summary>
    public IReadOnlyList<double> Chain => _chain;

    public SolutionState Start { get; } = new ArithState([], []);

    public (StepJudgement Judgement, SolutionState After) Judge(SolutionState before, string step)
    {
        var state = (ArithState)before;
        var marker = AnswerMarkerRegex().Match(step);
        if (!marker.Success) return JudgeContent(state, step);

        // "…, so he has 2 + 6 = 8 stamps. The answer is 8.": the words that open the marker are not content.
        var content = LeadRegex().Replace(step[..marker.Index], "");
        var (judgement, after) = string.IsNullOrWhiteSpace(content)
            ? (StepJudgement.Neutral("states the answer"), state)
            : JudgeContent(state, content);
        if (!judgement.IsSound) return (judgement, after);
        var answer = AnswerExtractor.ExtractMarked(step[marker.Index..], AnswerKind.Number);
        if (answer is null) return (StepJudgement.Invalid("malformed: the answer is not a number"), after);
        if (!AnswerChecker.IsEquivalent(answer, _problem.Answer, AnswerKind.Number))
            return (new StepJudgement(StepLabel.Incorrect, $"answers {answer}, expected {_problem.Answer}"), after);
        var value = NumberAnswer.TryParse(answer)?.Value;
        if (value is null || !Contains(((ArithState)after).Derived, value.Value))
            return (StepJudgement.Invalid($"answers {answer}, right, but no sound step derived it (a guess)"), after);
        return (new StepJudgement(StepLabel.Correct, $"answers {answer}, derived"), after);
    }

    private (StepJudgement, ArithState) JudgeContent(ArithState state, string content)
    {
        if (string.IsNullOrWhiteSpace(content)) return (StepJudgement.Invalid("malformed: an empty step"), state);
        var arithmetic = Read(content);
        if (arithmetic.Malformed is { } bad) return (StepJudgement.Invalid($"malformed equation '{bad}'"), state);
        var (clauses, unparsed) = ArithClauses.Parse(content);
        if (unparsed is not null) return (StepJudgement.Invalid($"malformed: '{unparsed}'"), state);
        if (clauses.Count == 0) return (StepJudgement.Invalid("malformed: no clause"), state);
        if (Words(clauses, state) is { } wrong) return (StepJudgement.Invalid(wrong), state);

        // Available to this step: given, derived by earlier sound steps, and (for later equations) its own results.
        var available = new List<double>(_given.Concat(state.Derived));
        var results = new List<double>();
        foreach (var equation in arithmetic.Equations)
        {
            if (!equation.IsTrue)
                return (StepJudgement.Invalid($"false arithmetic: {equation.Text} (the left side is {Format(equation.Sides[0])})"), state);
            foreach (var operand in equation.Operands)
                if (!Contains(available, operand))
                    return (StepJudgement.Invalid($"uses {Format(operand)}, which is neither given nor derived ({equation.Text})"), state);
            available.Add(equation.Value);
            results.Add(equation.Value);
        }
        foreach (var mention in arithmetic.Mentions)
            if (!Contains(available, mention))
                return (StepJudgement.Invalid($"states {Format(mention)}, which is neither given nor derived"), state);
        if (Describes(clauses, arithmetic.Equations, state) is { } mismatch) return (StepJudgement.Invalid(mismatch), state);

        if (arithmetic.Equations.Count == 0)
            return (StepJudgement.Neutral("restates what the problem gives or a step derived"), state);
        var result = arithmetic.Equations[^1];
        if (!Contains(_chain, result.Value))
            return (StepJudgement.Invalid($"computes {Format(result.Value)}, which the reference solution never computes ({result.Text})"), state);
        // A computation written before is no progress, unless the reference itself makes it that many times (6 - 2 = 4 twice).
        var computations = arithmetic.Equations.Select(e => e.Canonical).ToList();
        if (computations.All(c => state.Computations.Count(c.Equals) >= Math.Max(1, _referenceComputations.Count(c.Equals))))
            return (StepJudgement.Neutral($"repeats {result.Text}"), state);
        var after = new ArithState([.. state.Derived, .. results.Where(r => !Contains(state.Derived, r))], [.. state.Computations, .. computations]);
        return (StepJudgement.Valid($"computes {result.Text}"), after);
    }

    /// <summary>Why the step's words do not fit the problem: a stranger, another object, a holding or change the problem never states.</summary>
    private string? Words(IReadOnlyList<Clause> clauses, ArithState state)
    {
        foreach (var clause in clauses)
        {
            foreach (var name in new[] { clause.Who, clause.Other })
                if (name is not null && !ArithClauses.IsPronoun(name) && !_people.Contains(name))
                    return $"'{clause.Text}': {name} is not in the problem";
            if (clause.Other is not null && clause.Other == clause.Who)
                return $"'{clause.Text}': compares {clause.Who} with themself";
            if (clause.Object is not null && clause.Object != _object)
                return $"'{clause.Text}': the problem counts {_object}, not {clause.Object}";
            switch (clause.Kind)
            {
                case ClauseKind.Holding when !Contains(state.Derived, clause.Number)
                    && !_stated.Any(s => s.Kind == ClauseKind.Holding && s.Number == clause.Number && (ArithClauses.IsPronoun(clause.Who!) || s.Who == clause.Who)):
                    return $"'{clause.Text}': the problem gives no such amount, and no step derived {Format(clause.Number)}";
                case ClauseKind.Groups when !_stated.Any(s => s.Kind == ClauseKind.Groups && s.Number == clause.Number && s.Second == clause.Second):
                    return $"'{clause.Text}': the problem has no such groups";
                case ClauseKind.Change when !_stated.Any(s => s.Kind == ClauseKind.Change && s.Operation == clause.Operation && s.Number == clause.Number
                                                              && (s.Other is null) == (clause.Other is null)):
                    return $"'{clause.Text}': the problem has no such change";
                case ClauseKind.Question:
                    return $"'{clause.Text}': a question, not a step";
            }
        }
        return null;
    }

    /// <summary>
    /// A step that describes one change and computes one "a op b = c" must compute that change: "buys 5 more" adds 5, to
    /// the amount it changes, which is an amount the question states someone holds or one a sound step derived (a given
    /// number in another role, such as the 3 of "loses 3", is not what "3 times as many" multiplies).
    /// </summary>
    private string? Describes(IReadOnlyList<Clause> clauses, IReadOnlyList<WrittenEquation> equations, ArithState state)
    {
        var changes = clauses.Where(c => c.Kind is ClauseKind.Change or ClauseKind.Groups).ToList();
        if (changes.Count != 1 || equations.Count != 1 || equations[0].BinaryOperation is not { } op) return null;
        var (change, equation) = (changes[0], equations[0]);
        var (a, b) = (equation.Operands[0], equation.Operands[1]);
        if (change.Kind == ClauseKind.Groups)
            return op == '*' && ((a == change.Number && b == change.Second) || (a == change.Second && b == change.Number))
                ? null
                : $"'{change.Text}' is not what {equation.Text} computes";
        if (op != change.Operation || (b != change.Number && !(op is '+' or '*' && a == change.Number)))
            return $"'{change.Text}' is not what {equation.Text} computes";
        var changed = b == change.Number ? a : b;
        bool held = Contains(state.Derived, changed) || _stated.Any(s => s.Kind == ClauseKind.Holding && s.Number == changed);
        return held ? null : $"'{change.Text}' changes {Format(changed)}, which nobody holds: the problem gives it in another role, and no step derived it";
    }

    private static bool Contains(IEnumerable<double> values, double value) => values.Any(v => Same(v, value));

    // The answer extractor's "The answer is" / "Answer:" marker.
    [GeneratedRegex(@"\banswer\s*(?:is\b|:)", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerMarkerRegex();

    [GeneratedRegex(@"(?:\bso,?\s+)?(?:\bthe\s+)?(?:\bfinal\s+)?$", RegexOptions.IgnoreCase)]
    private static partial Regex LeadRegex();
}
