namespace Reasoner.Core.Tasks;

/// <summary>
/// Shape of the arith word problems. The defaults are difficulty 2, sized for a tiny character-level model:
/// a 3.2M-parameter model trained 25 minutes on 1-4-step problems with two-digit numbers got only 12% greedy
/// accuracy, mostly from wrong two-digit sums, so by default every quantity stays at most 20 and operands
/// are single digits; what remains hard is the chain length.
/// </summary>
public sealed record ArithOptions
{
    /// <summary>Fewest solution steps (lines before "The answer is"). Step counts are drawn uniformly, so a range mixes easy and hard problems.</summary>
    public int MinSteps { get; init; } = 1;

    public int MaxSteps { get; init; } = 4;

    /// <summary>Largest number added, subtracted or started with; the smallest is 2, so no noun is ever singular.</summary>
    public int MaxOperand { get; init; } = 9;

    /// <summary>Largest multiplier or divisor ("3 times as many", "one of 3 equal groups").</summary>
    public int MaxFactor { get; init; } = 3;

    /// <summary>Every quantity, intermediate or final, lies in [2, MaxResult].</summary>
    public int MaxResult { get; init; } = 20;

    /// <summary>
    /// 1: 1-2 steps, operands up to 5, results up to 10 (single-digit arithmetic). 2: the defaults.
    /// 3: 2-6 steps, operands up to 20, factors up to 9, results up to 100 (the two-digit regime that defeats tiny models).
    /// </summary>
    public static ArithOptions ForDifficulty(int difficulty) => difficulty switch
    {
        1 => new ArithOptions { MaxSteps = 2, MaxOperand = 5, MaxFactor = 2, MaxResult = 10 },
        2 => new ArithOptions(),
        3 => new ArithOptions { MinSteps = 2, MaxSteps = 6, MaxOperand = 20, MaxFactor = 9, MaxResult = 100 },
        _ => throw new ArgumentOutOfRangeException(nameof(difficulty), difficulty, "arith difficulty is 1, 2 or 3"),
    };

    internal void Validate()
    {
        if (MinSteps < 1 || MaxSteps < MinSteps || MaxSteps > 10)
            throw new ArgumentException($"arith steps must satisfy 1 <= MinSteps <= MaxSteps <= 10, got {MinSteps}..{MaxSteps}");
        if (MaxOperand < 2 || MaxFactor < 2)
            throw new ArgumentException($"arith MaxOperand and MaxFactor must be at least 2, got {MaxOperand} and {MaxFactor}");
        // Below this an add or a subtract may both be impossible from some quantity, and a chain could get stuck.
        if (MaxResult < Math.Max(2 * MaxOperand, 8))
            throw new ArgumentException($"arith MaxResult must be at least max(2 * MaxOperand, 8), got {MaxResult}");
    }
}
