using System.Globalization;
using System.Numerics;

namespace Reasoner.Core.Answers;

/// <summary>
/// Recursive-descent parser for the LaTeX-ish notation answers are written in: + - * / ^, implicit multiplication,
/// \frac, \sqrt, \sqrt[n], \pi, e, i, \cdot, \times, |..|, !, braces and brackets as grouping, single-letter and
/// subscripted variables, Greek letters, and \sin \cos \tan \log \ln \exp (also bare "sin", "sqrt").
/// Anything else is a parse failure (null), never an exception.
/// </summary>
internal sealed class MathParser
{
    private const int MaxLength = 1000;

    // Bounds recursion so adversarial nesting cannot overflow the stack (which no catch would stop).
    private const int MaxDepth = 100;

    private static readonly Dictionary<string, MathFunction> Functions = new(StringComparer.Ordinal)
    {
        ["sin"] = MathFunction.Sin, ["cos"] = MathFunction.Cos, ["tan"] = MathFunction.Tan,
        ["sec"] = MathFunction.Sec, ["csc"] = MathFunction.Csc, ["cot"] = MathFunction.Cot,
        ["arcsin"] = MathFunction.Arcsin, ["arccos"] = MathFunction.Arccos, ["arctan"] = MathFunction.Arctan,
        ["sinh"] = MathFunction.Sinh, ["cosh"] = MathFunction.Cosh, ["tanh"] = MathFunction.Tanh,
        ["ln"] = MathFunction.Ln, ["log"] = MathFunction.Log10, ["exp"] = MathFunction.Exp,
    };

    // Written as words by models that skip the backslash; matched only as whole words ("cost" stays c*o*s*t).
    private static readonly string[] BareWords = ["arcsin", "arccos", "arctan", "sqrt", "sin", "cos", "tan", "ln", "log", "exp", "pi"];

    private static readonly HashSet<string> Greek = new(StringComparer.Ordinal)
    {
        "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
        "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
    };

    private static readonly HashSet<string> Invisible = new(StringComparer.Ordinal)
    {
        "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle", "quad", "qquad",
    };

    private readonly string _s;
    private int _pos;
    private int _depth;
    private int _openBars;

    private MathParser(string s) => _s = s;

    public static MathExpr? TryParse(string text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength) return null;
        var parser = new MathParser(text);
        try
        {
            var expr = parser.ParseExpression();
            parser.SkipSpace();
            return parser._pos == text.Length ? expr : null;
        }
        catch (ParseFailure)
        {
            return null;
        }
    }

    private MathExpr ParseExpression()
    {
        Enter();
        var left = ParseTerm();
        while (true)
        {
            SkipSpace();
            if (Eat('+')) left = new BinaryExpr(BinaryOp.Add, left, ParseTerm());
            else if (Eat('-')) left = new BinaryExpr(BinaryOp.Subtract, left, ParseTerm());
            else break;
        }
        _depth--;
        return left;
    }

    private MathExpr ParseTerm()
    {
        var left = ParseUnary();
        while (true)
        {
            SkipSpace();
            if (Eat('*') || EatCommand("cdot") || EatCommand("times")) left = new BinaryExpr(BinaryOp.Multiply, left, ParseUnary());
            else if (Eat('/') || EatCommand("div")) left = new BinaryExpr(BinaryOp.Divide, left, ParseUnary());
            else if (StartsOperand()) left = new BinaryExpr(BinaryOp.Multiply, left, ParsePower());
            else return left;
        }
    }

    private MathExpr ParseUnary()
    {
        Enter();
        SkipSpace();
        var result = Eat('-') ? new NegateExpr(ParseUnary()) : Eat('+') ? ParseUnary() : ParsePower();
        _depth--;
        return result;
    }

    private MathExpr ParsePower()
    {
        var operand = ParsePostfix();
        SkipSpace();
        return Eat('^') ? new BinaryExpr(BinaryOp.Power, operand, ParseExponent()) : operand;
    }

    // An exponent may carry its own sign (2^-1) and is right-associative (2^3^2 = 2^9).
    private MathExpr ParseExponent()
    {
        Enter();
        SkipSpace();
        var result = Eat('-') ? new NegateExpr(ParseExponent()) : Eat('+') ? ParseExponent() : ParsePower();
        _depth--;
        return result;
    }

    private MathExpr ParsePostfix()
    {
        var operand = ParsePrimary();
        while (Eat('!')) operand = new FunctionExpr(MathFunction.Factorial, operand);
        return operand;
    }

    private MathExpr ParsePrimary()
    {
        SkipSpace();
        if (_pos >= _s.Length) throw new ParseFailure();
        char c = _s[_pos];
        if (char.IsAsciiDigit(c) || c == '.') return ParseNumber();
        if (char.IsAsciiLetter(c)) return ParseLetters();
        switch (c)
        {
            case '(': return ParseGroup(')');
            case '[': return ParseGroup(']');
            case '{': return ParseGroup('}');
            case '|':
                _openBars++;
                var inner = ParseGroup('|');
                _openBars--;
                return new FunctionExpr(MathFunction.Abs, inner);
            case '\\':
                string name = PeekCommandName();
                _pos += 1 + name.Length;
                return ParseCommand(name);
            default:
                throw new ParseFailure();
        }
    }

    private MathExpr ParseGroup(char close)
    {
        _pos++;
        var inner = ParseExpression();
        SkipSpace();
        if (!Eat(close)) throw new ParseFailure();
        return inner;
    }

    private MathExpr ParseCommand(string name)
    {
        switch (name)
        {
            case "frac" or "dfrac" or "tfrac" or "cfrac":
                var numerator = ParseArgument();
                return new BinaryExpr(BinaryOp.Divide, numerator, ParseArgument());
            case "sqrt":
                SkipSpace();
                MathExpr index = _pos < _s.Length && _s[_pos] == '[' ? ParseGroup(']') : new ConstantExpr(2);
                return new RootExpr(index, ParseArgument());
            case "pi":
                return new ConstantExpr(Math.PI);
            case "infty":
                return new ConstantExpr(double.PositiveInfinity);
        }
        if (Functions.TryGetValue(name, out var function)) return ParseFunction(function);
        if (Greek.Contains(name)) return new VariableExpr("\\" + name);
        throw new ParseFailure();
    }

    /// <summary>
    /// A TeX macro argument: a braced group, or a single digit, letter or command (\frac12, \sqrt x); a parenthesised
    /// group too, for the bare "sqrt(2)" models write.
    /// </summary>
    private MathExpr ParseArgument()
    {
        SkipSpace();
        if (_pos >= _s.Length) throw new ParseFailure();
        char c = _s[_pos];
        if (c == '{') return ParseGroup('}');
        if (c == '(') return ParseGroup(')');
        if (c == '\\') return ParsePrimary();
        _pos++;
        if (char.IsAsciiDigit(c)) return new ConstantExpr(c - '0');
        if (char.IsAsciiLetter(c)) return Letter(c.ToString());
        throw new ParseFailure();
    }

    private MathExpr ParseFunction(MathFunction function)
    {
        MathExpr? power = null, logBase = null;
        // Both orders occur: \log_2^3 x and \log^3_2 x.
        for (int i = 0; i < 2; i++)
        {
            SkipSpace();
            if (power is null && Eat('^')) power = ParseExponent();
            else if (logBase is null && function == MathFunction.Log10 && Eat('_')) logBase = ParseArgument();
        }
        var argument = ParseFunctionArgument();
        // \sin^{-1} x is arcsin x, not 1/sin x.
        if (power is NegateExpr { Operand: ConstantExpr { Value: var p } } && p == 1 && Inverse(function) is { } inverse)
            return new FunctionExpr(inverse, argument);
        MathExpr call = logBase is null
            ? new FunctionExpr(function, argument)
            : new BinaryExpr(BinaryOp.Divide, new FunctionExpr(MathFunction.Ln, argument), new FunctionExpr(MathFunction.Ln, logBase));
        return power is null ? call : new BinaryExpr(BinaryOp.Power, call, power);
    }

    /// <summary>
    /// "\sin(x)" takes the bracket; "\sin 2x" takes the run of numbers and letters that follows, stopping at the next
    /// command so that "\sin x \cos x" is a product of two calls.
    /// </summary>
    private MathExpr ParseFunctionArgument()
    {
        SkipSpace();
        if (_pos < _s.Length && _s[_pos] is '(' or '{' or '[') return ParsePrimary();
        var argument = ParsePower();
        while (StartsOperand() && _s[_pos] != '\\') argument = new BinaryExpr(BinaryOp.Multiply, argument, ParsePower());
        return argument;
    }

    private static MathFunction? Inverse(MathFunction function) => function switch
    {
        MathFunction.Sin => MathFunction.Arcsin,
        MathFunction.Cos => MathFunction.Arccos,
        MathFunction.Tan => MathFunction.Arctan,
        _ => null,
    };

    private MathExpr ParseNumber()
    {
        int start = _pos;
        while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
        if (_pos + 1 < _s.Length && _s[_pos] == '.' && char.IsAsciiDigit(_s[_pos + 1]))
        {
            _pos++;
            while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
        }
        if (_pos == start) throw new ParseFailure();
        // Scientific notation (1.5e3, 2E-4) wins over "number times Euler's e" only when digits follow.
        if (_pos < _s.Length && _s[_pos] is 'e' or 'E')
        {
            int exponent = _pos + 1;
            if (exponent < _s.Length && _s[exponent] is '+' or '-') exponent++;
            if (exponent < _s.Length && char.IsAsciiDigit(_s[exponent]))
            {
                _pos = exponent;
                while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
            }
        }
        return new ConstantExpr(double.Parse(_s.AsSpan(start, _pos - start), NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    private MathExpr ParseLetters()
    {
        foreach (var word in BareWords)
        {
            int end = _pos + word.Length;
            if (string.CompareOrdinal(_s, _pos, word, 0, word.Length) == 0 && (end >= _s.Length || !char.IsAsciiLetter(_s[end])))
            {
                _pos = end;
                return ParseCommand(word);
            }
        }
        char c = _s[_pos++];
        if (_pos < _s.Length && _s[_pos] == '_')
        {
            _pos++;
            return new VariableExpr($"{c}_{ReadSubscript()}");
        }
        return Letter(c.ToString());
    }

    // e and i are constants, not variables: answers use them as Euler's number and the imaginary unit.
    private static MathExpr Letter(string name) => name switch
    {
        "e" => new ConstantExpr(Math.E),
        "i" => new ConstantExpr(Complex.ImaginaryOne),
        _ => new VariableExpr(name),
    };

    private string ReadSubscript()
    {
        if (_pos >= _s.Length) throw new ParseFailure();
        if (_s[_pos] == '{')
        {
            int close = Latex.MatchingBrace(_s, _pos);
            if (close < 0) throw new ParseFailure();
            string sub = _s[(_pos + 1)..close].Replace(" ", "");
            _pos = close + 1;
            return sub;
        }
        if (!char.IsAsciiLetterOrDigit(_s[_pos])) throw new ParseFailure();
        return _s[_pos++].ToString();
    }

    private bool StartsOperand()
    {
        SkipSpace();
        if (_pos >= _s.Length) return false;
        char c = _s[_pos];
        if (char.IsAsciiLetterOrDigit(c) || c is '.' or '(' or '{' or '[') return true;
        // Inside |..| a bar closes the absolute value rather than opening a new one.
        if (c == '|') return _openBars == 0;
        if (c != '\\') return false;
        string name = PeekCommandName();
        return name is "frac" or "dfrac" or "tfrac" or "cfrac" or "sqrt" or "pi" or "infty"
            || Functions.ContainsKey(name) || Greek.Contains(name);
    }

    /// <summary>Skips whitespace and typesetting-only commands (\left, \right, \, and friends).</summary>
    private void SkipSpace()
    {
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (char.IsWhiteSpace(c) || c == '~') _pos++;
            else if (c == '\\' && _pos + 1 < _s.Length && _s[_pos + 1] is ',' or '!' or ';' or ':' or ' ') _pos += 2;
            else if (c == '\\' && PeekCommandName() is var name && Invisible.Contains(name)) _pos += 1 + name.Length;
            else return;
        }
    }

    private bool Eat(char c)
    {
        if (_pos >= _s.Length || _s[_pos] != c) return false;
        _pos++;
        return true;
    }

    private bool EatCommand(string name)
    {
        if (_pos >= _s.Length || _s[_pos] != '\\' || PeekCommandName() != name) return false;
        _pos += 1 + name.Length;
        return true;
    }

    private string PeekCommandName()
    {
        int start = _pos + 1, end = start;
        while (end < _s.Length && char.IsAsciiLetter(_s[end])) end++;
        if (end == start && end < _s.Length) end++;
        return _s[start..end];
    }

    private void Enter()
    {
        if (++_depth > MaxDepth) throw new ParseFailure();
    }

    private sealed class ParseFailure : Exception;
}
