namespace Reasoner.Core.Tasks;

/// <summary>
/// Multi-step word problems that follow one quantity through a chain of changes, one question sentence and
/// one solution line per change, e.g. "Tom has 7 apples and buys 5 more, so he has 7 + 5 = 12 apples."
/// A second person may enter by comparison ("Mia has 3 more apples than Tom") and the last step may add
/// both people's amounts. Every quantity is a whole number in [2, MaxResult] and every division is exact.
/// </summary>
internal sealed class ArithGenerator(ArithOptions options) : IProblemGenerator
{
    private sealed record Person(string Name, string Pronoun);

    private enum Change { Add, Subtract, Multiply, Divide, MoreThan, FewerThan, TimesAs }

    internal static IEnumerable<string> PersonNames => Boys.Concat(Girls).Select(p => p.Name);

    internal static IReadOnlyList<string> ObjectNames => Objects;

    private static readonly Person[] Boys = [.. new[] { "Tom", "Sam", "Ben", "Leo", "Max", "Jack", "Omar", "Ravi", "Hugo", "Dan" }.Select(n => new Person(n, "he"))];
    private static readonly Person[] Girls = [.. new[] { "Ann", "Mia", "Eva", "Lily", "Zoe", "Nora", "Ella", "Maya", "Rosa", "Kate" }.Select(n => new Person(n, "she"))];
    private static readonly string[] Objects = ["apples", "marbles", "stickers", "cookies", "pencils", "stamps", "cards", "coins", "shells", "books"];
    private static readonly string[] Containers = ["bags", "boxes", "jars"];
    private static readonly string[] AddVerbs = ["buys", "finds", "gets", "wins"];
    private static readonly string[] SubtractVerbs = ["gives away", "loses", "sells"];

    // Adding and taking away dominate, as in grade-school problems; a comparison can happen once per problem.
    private static readonly (Change Change, int Weight)[] Weights =
    [
        (Change.Add, 6), (Change.Subtract, 6), (Change.Multiply, 2), (Change.Divide, 2),
        (Change.MoreThan, 2), (Change.FewerThan, 1), (Change.TimesAs, 1),
    ];

    private const double ProductStartChance = 0.25;
    private const double TogetherChance = 0.5;

    public GeneratedProblem Next(TaskRandom random)
    {
        var stepCount = random.Between(options.MinSteps, options.MaxSteps);
        var firstIsBoy = random.Chance(0.5);
        var first = random.Pick(firstIsBoy ? Boys : Girls);
        // The second person has the other pronoun, so "he" and "she" are never ambiguous.
        var second = random.Pick(firstIsBoy ? Girls : Boys);
        var things = random.Pick(Objects);

        var question = new List<string>();
        var solution = new List<string>();
        var subject = first;
        int count, firstCount = 0;
        var secondEntered = false;
        var restateStart = false;
        var changedLast = false;

        if (random.Chance(ProductStartChance))
        {
            var groups = random.Between(2, Math.Min(options.MaxFactor, options.MaxResult / 2));
            var each = random.Between(2, Math.Min(options.MaxOperand, options.MaxResult / groups));
            var container = random.Pick(Containers);
            count = groups * each;
            question.Add($"{first.Name} has {groups} {container} with {each} {things} in each.");
            solution.Add($"{first.Name} has {groups} {container} with {each} {things} in each, so {first.Pronoun} has {groups} * {each} = {count} {things}.");
        }
        else
        {
            count = random.Between(2, options.MaxOperand);
            question.Add($"{first.Name} has {count} {things}.");
            restateStart = true;
        }

        while (solution.Count < stepCount)
        {
            var isLast = solution.Count == stepCount - 1;
            if (isLast && secondEntered && firstCount + count <= options.MaxResult && random.Chance(TogetherChance))
            {
                var total = firstCount + count;
                solution.Add($"Together they have {firstCount} + {count} = {total} {things}.");
                solution.Add(AnswerLine(total));
                question.Add($"How many {things} do {first.Name} and {second.Name} have together?");
                return Finish(question, solution, total);
            }

            var change = PickChange(random, count, secondEntered);
            var (operand, sign) = change switch
            {
                Change.Add or Change.MoreThan => (random.Between(2, Math.Min(options.MaxOperand, options.MaxResult - count)), '+'),
                Change.Subtract or Change.FewerThan => (random.Between(2, Math.Min(options.MaxOperand, count - 2)), '-'),
                Change.Multiply or Change.TimesAs => (random.Between(2, Math.Min(options.MaxFactor, options.MaxResult / count)), '*'),
                _ => (random.Pick(Divisors(count)), '/'),
            };
            var result = sign switch { '+' => count + operand, '-' => count - operand, '*' => count * operand, _ => count / operand };
            var pronoun = Capitalise(subject.Pronoun);
            var (gain, loss) = (random.Pick(AddVerbs), random.Pick(SubtractVerbs));
            // Ask is the question's sentence; Says is how the solution line restates it before computing.
            var (ask, says) = change switch
            {
                Change.Add => ($"{pronoun} {gain} {operand} more {things}.", $"{gain} {operand} more"),
                Change.Subtract => ($"{pronoun} {loss} {operand} {things}.", $"{loss} {operand}"),
                Change.Multiply => ($"{pronoun} ends up with {operand} times as many {things} as before.", $"ends up with {operand} times as many"),
                Change.Divide => ($"{pronoun} splits the {things} into {operand} equal groups and keeps one group.", $"keeps one of {operand} equal groups"),
                Change.MoreThan => ($"{second.Name} has {operand} more {things} than {first.Name}.", $"{second.Name} has {operand} more than {first.Name}"),
                Change.FewerThan => ($"{second.Name} has {operand} fewer {things} than {first.Name}.", $"{second.Name} has {operand} fewer than {first.Name}"),
                _ => ($"{second.Name} has {operand} times as many {things} as {first.Name}.", $"{second.Name} has {operand} times as many as {first.Name}"),
            };
            changedLast = change is not (Change.MoreThan or Change.FewerThan or Change.TimesAs);
            if (!changedLast)
                (firstCount, subject, secondEntered) = (count, second, true);
            // The first solution line repeats the starting amount, so every number a step uses is on its own line or the one before.
            else says = (restateStart ? $"{first.Name} has {count} {things} and " : pronoun + " ") + says;
            restateStart = false;
            question.Add(ask);
            solution.Add($"{says}, so {subject.Pronoun} has {count} {sign} {operand} = {result} {things}.");
            count = result;
        }
        solution.Add(AnswerLine(count));
        // "now" only when the asked amount has just changed; after "Mia has 3 more than Tom" it would read oddly.
        question.Add($"How many {things} does {subject.Name} have{(changedLast ? " now" : "")}?");
        return Finish(question, solution, count);
    }

    private Change PickChange(TaskRandom random, int count, bool secondEntered)
    {
        var canAdd = count + 2 <= options.MaxResult;
        var canSubtract = count >= 4;
        var canMultiply = count * 2 <= options.MaxResult;
        var canDivide = Divisors(count).Count > 0;
        var feasible = Weights.Where(w => w.Change switch
        {
            Change.Add => canAdd,
            Change.Subtract => canSubtract,
            Change.Multiply => canMultiply,
            Change.Divide => canDivide,
            Change.MoreThan => canAdd && !secondEntered,
            Change.FewerThan => canSubtract && !secondEntered,
            _ => canMultiply && !secondEntered,
        }).ToArray();
        var draw = random.Between(1, feasible.Sum(w => w.Weight));
        foreach (var (change, weight) in feasible)
            if ((draw -= weight) <= 0) return change;
        throw new InvalidOperationException("unreachable: the draw is within the total weight");
    }

    /// <summary>Divisors in [2, MaxFactor] that leave at least 2.</summary>
    private List<int> Divisors(int count)
    {
        var divisors = new List<int>();
        for (var k = 2; k <= options.MaxFactor && count / k >= 2; k++)
            if (count % k == 0) divisors.Add(k);
        return divisors;
    }

    private static string AnswerLine(int answer) => $"The answer is {answer}.";

    private static string Capitalise(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    private static GeneratedProblem Finish(List<string> question, List<string> solution, int answer)
    {
        var text = string.Join(' ', question);
        return new GeneratedProblem(text, text, answer.ToString(System.Globalization.CultureInfo.InvariantCulture), solution);
    }
}
