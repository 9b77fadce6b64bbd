using System.Globalization;

namespace Reasoner.Core.Judging;

/// <summary>An equation as written in a step: each side's value, the numbers it uses, and the value it states.</summary>
internal sealed record WrittenEquation(string Text, bool IsTrue, double Value, IReadOnlyList<double> Operands, IReadOnlyList<double> Sides)
{
    /// <summary>For "a op b = c", the operation in its canonical spelling (+ - * /); null for any other shape.</summary>
    public char? BinaryOperation { get; init; }

    /// <summary>Whitespace-free with one spelling per operator, so that "9 - 3 = 6" and "9-3=6" are one computation.</summary>
    public string Canonical => Text.Replace(" ", "").Replace('×', '*').Replace('÷', '/').Replace('x', '*');
}

/// <summary>The arithmetic of one step's text: its equations, the numbers it mentions outside them, and what failed to parse.</summary>
internal sealed record StepArithmetic(IReadOnlyList<WrittenEquation> Equations, IReadOnlyList<double> Mentions, string? Malformed);

/// <summary>
/// Reads the arithmetic in free text: runs of numbers, operators (+ - * / × ÷, and x between numbers), parentheses and
/// "=" are expressions; a run with "=" is an equation, each side evaluated with the usual precedence. Every other
/// number is a mention. A run with "=" that does not parse ("7 + = 12") is malformed.
/// </summary>
internal static class ArithmeticText
{
    private enum Kind { Number, Operator, Open, Close, Equals, Word }

    private readonly record struct Token(Kind Kind, string Text, double Number = 0);

    public static StepArithmetic Read(string text)
    {
        var equations = new List<WrittenEquation>();
        var mentions = new List<double>();
        string? malformed = null;
        foreach (var run in Runs(Tokenize(text)))
        {
            if (!run.Any(t => t.Kind == Kind.Equals))
            {
                mentions.AddRange(run.Where(t => t.Kind == Kind.Number).Select(t => t.Number));
                continue;
            }
            if (Equation(run) is { } equation) equations.Add(equation);
            else malformed ??= string.Join(" ", run.Select(t => t.Text));
        }
        return new StepArithmetic(equations, mentions, malformed);
    }

    /// <summary>Every number written in the text, in equations or not.</summary>
    public static IEnumerable<double> Numbers(string text) =>
        Tokenize(text).Where(t => t.Kind == Kind.Number).Select(t => t.Number);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsAsciiDigit(c))
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || (text[i] == ',' && ThousandsGroup(text, i)))) i++;
                if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
                    for (i++; i < text.Length && char.IsAsciiDigit(text[i]); i++) { }
                var literal = text[start..i];
                tokens.Add(new Token(Kind.Number, literal, double.Parse(literal.Replace(",", ""), CultureInfo.InvariantCulture)));
                continue;
            }
            if (c is '+' or '-' or '*' or '/' or '×' or '÷') { tokens.Add(new Token(Kind.Operator, c.ToString())); i++; continue; }
            if (c == '(') { tokens.Add(new Token(Kind.Open, "(")); i++; continue; }
            if (c == ')') { tokens.Add(new Token(Kind.Close, ")")); i++; continue; }
            if (c == '=') { tokens.Add(new Token(Kind.Equals, "=")); i++; continue; }
            int wordStart = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && !char.IsAsciiDigit(text[i]) && text[i] is not ('+' or '-' or '*' or '/' or '×' or '÷' or '(' or ')' or '='))
                i++;
            var word = text[wordStart..i];
            // "3 x 4": a lone x between numbers multiplies.
            tokens.Add(word == "x" ? new Token(Kind.Operator, "x") : new Token(Kind.Word, word));
        }
        return tokens;
    }

    /// <summary>"1,000": a comma followed by exactly three digits continues the number; "3, 4" and "3,4" do not.</summary>
    private static bool ThousandsGroup(string text, int comma) =>
        comma + 3 < text.Length
        && char.IsAsciiDigit(text[comma + 1]) && char.IsAsciiDigit(text[comma + 2]) && char.IsAsciiDigit(text[comma + 3])
        && (comma + 4 == text.Length || !char.IsAsciiDigit(text[comma + 4]));

    /// <summary>Maximal runs of arithmetic tokens; words and punctuation end a run.</summary>
    private static IEnumerable<List<Token>> Runs(List<Token> tokens)
    {
        var run = new List<Token>();
        foreach (var token in tokens)
        {
            if (token.Kind != Kind.Word) { run.Add(token); continue; }
            if (run.Count > 0) yield return run;
            run = [];
        }
        if (run.Count > 0) yield return run;
    }

    private static WrittenEquation? Equation(List<Token> run)
    {
        var sides = new List<List<Token>> { new() };
        foreach (var token in run)
        {
            if (token.Kind == Kind.Equals) sides.Add([]);
            else sides[^1].Add(token);
        }
        var values = new List<double>();
        foreach (var side in sides)
        {
            int position = 0;
            if (side.Count == 0 || Expression(side, ref position) is not { } value || position != side.Count) return null;
            values.Add(value);
        }
        // A side that is a lone number states the result; the numbers of every other side are what the equation uses.
        var operands = sides.Where(s => s.Count > 1).SelectMany(s => s.Where(t => t.Kind == Kind.Number).Select(t => t.Number)).ToList();
        bool isTrue = values.All(v => Same(v, values[0]));
        var text = string.Join(" ", run.Select(t => t.Text));
        char? binary = sides is [[{ Kind: Kind.Number }, { Kind: Kind.Operator } op, { Kind: Kind.Number }], [{ Kind: Kind.Number }]]
            ? op.Text switch { "×" or "x" => '*', "÷" => '/', _ => op.Text[0] }
            : null;
        return new WrittenEquation(text, isTrue, values[^1], operands, values) { BinaryOperation = binary };
    }

    // expression := term (("+" | "-") term)*; term := factor (("*" | "/" | "×" | "÷" | "x") factor)*; factor := number | "(" expression ")"
    private static double? Expression(List<Token> tokens, ref int i)
    {
        if (Term(tokens, ref i) is not { } value) return null;
        while (i < tokens.Count && tokens[i].Kind == Kind.Operator && tokens[i].Text is "+" or "-")
        {
            var op = tokens[i++].Text;
            if (Term(tokens, ref i) is not { } right) return null;
            value = op == "+" ? value + right : value - right;
        }
        return value;
    }

    private static double? Term(List<Token> tokens, ref int i)
    {
        if (Factor(tokens, ref i) is not { } value) return null;
        while (i < tokens.Count && tokens[i].Kind == Kind.Operator && tokens[i].Text is "*" or "/" or "×" or "÷" or "x")
        {
            var op = tokens[i++].Text;
            if (Factor(tokens, ref i) is not { } right) return null;
            if (op is "/" or "÷")
            {
                if (right == 0) return null;
                value /= right;
            }
            else value *= right;
        }
        return value;
    }

    private static double? Factor(List<Token> tokens, ref int i)
    {
        if (i >= tokens.Count) return null;
        var token = tokens[i];
        if (token.Kind == Kind.Number) { i++; return token.Number; }
        if (token.Kind != Kind.Open) return null;
        i++;
        if (Expression(tokens, ref i) is not { } inner || i >= tokens.Count || tokens[i].Kind != Kind.Close) return null;
        i++;
        return inner;
    }

    /// <summary>Equal up to floating-point rounding: the tasks' numbers are small, so anything further apart is different arithmetic.</summary>
    public static bool Same(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(b));

    public static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
