using System.Numerics;

namespace Reasoner.Core.Answers;

/// <summary>
/// A parsed math answer. Evaluation is over the complex numbers so that <c>i</c> is the imaginary unit and
/// square roots or logs of negative values still give a definite value both sides can be compared on.
/// </summary>
internal abstract record MathExpr
{
    public abstract Complex Evaluate(IReadOnlyDictionary<string, Complex> variables);

    public abstract void CollectVariables(ISet<string> into);
}

internal sealed record ConstantExpr(Complex Value) : MathExpr
{
    public override Complex Evaluate(IReadOnlyDictionary<string, Complex> variables) => Value;

    public override void CollectVariables(ISet<string> into) { }
}

internal sealed record VariableExpr(string Name) : MathExpr
{
    public override Complex Evaluate(IReadOnlyDictionary<string, Complex> variables) => variables[Name];

    public override void CollectVariables(ISet<string> into) => into.Add(Name);
}

internal sealed record NegateExpr(MathExpr Operand) : MathExpr
{
    public override Complex Evaluate(IReadOnlyDictionary<string, Complex> variables) => -Operand.Evaluate(variables);

    public override void CollectVariables(ISet<string> into) => Operand.CollectVariables(into);
}

internal enum BinaryOp { Add, Subtract, Multiply, Divide, Power }

internal sealed record BinaryExpr(BinaryOp Op, MathExpr Left, MathExpr Right) : MathExpr
{
    public override Complex Evaluate(IReadOnlyDictionary<string, Complex> variables)
    {
        var a = Left.Evaluate(variables);
        var b = Right.Evaluate(variables);
        return Op switch
        {
            BinaryOp.Add => a + b,
            BinaryOp.Subtract => a - b,
            BinaryOp.Multiply => a * b,
            BinaryOp.Divide => b == Complex.Zero ? new Complex(double.NaN, double.NaN) : a / b,
            _ => Power(a, b),
        };
    }

    public override void CollectVariables(ISet<string> into)
    {
        Left.CollectVariables(into);
        Right.CollectVariables(into);
    }

    // Complex.Pow loses precision (and gives 0^x = NaN) where the real power is exact, so stay real when possible.
    private static Complex Power(Complex a, Complex b)
    {
        if (a.Imaginary == 0 && b.Imaginary == 0 && (a.Real >= 0 || Math.Round(b.Real) == b.Real))
            return Math.Pow(a.Real, b.Real);
        return a == Complex.Zero ? Complex.Zero : Complex.Pow(a, b);
    }
}

/// <summary>The n-th root; odd roots of negative reals stay real (<c>\sqrt[3]{-8} = -2</c>) as readers expect.</summary>
internal sealed record RootExpr(MathExpr Index, MathExpr Radicand) : MathExpr
{
    public override Complex Evaluate(IReadOnlyDictionary<string, Complex> variables)
    {
        var n = Index.Evaluate(variables);
        var x = Radicand.Evaluate(variables);
        if (n == 2) return x.Imaginary == 0 && x.Real >= 0 ? Math.Sqrt(x.Real) : Complex.Sqrt(x);
        if (n.Imaginary == 0 && x.Imaginary == 0)
        {
            bool oddInteger = Math.Round(n.Real) == n.Real && Math.Abs(n.Real % 2) == 1;
            if (x.Real >= 0) return Math.Pow(x.Real, 1 / n.Real);
            if (oddInteger) return -Math.Pow(-x.Real, 1 / n.Real);
        }
        return Complex.Pow(x, 1 / n);
    }

    public override void CollectVariables(ISet<string> into)
    {
        Index.CollectVariables(into);
        Radicand.CollectVariables(into);
    }
}

internal enum MathFunction
{
    Sin, Cos, Tan, Sec, Csc, Cot, Arcsin, Arccos, Arctan, Sinh, Cosh, Tanh, Ln, Log10, Exp, Abs, Factorial,
}

internal sealed record FunctionExpr(MathFunction Function, MathExpr Argument) : MathExpr
{
    public override Complex Evaluate(IReadOnlyDictionary<string, Complex> variables)
    {
        var x = Argument.Evaluate(variables);
        return Function switch
        {
            MathFunction.Sin => Complex.Sin(x),
            MathFunction.Cos => Complex.Cos(x),
            MathFunction.Tan => Complex.Tan(x),
            MathFunction.Sec => 1 / Complex.Cos(x),
            MathFunction.Csc => 1 / Complex.Sin(x),
            MathFunction.Cot => Complex.Cos(x) / Complex.Sin(x),
            MathFunction.Arcsin => Complex.Asin(x),
            MathFunction.Arccos => Complex.Acos(x),
            MathFunction.Arctan => Complex.Atan(x),
            MathFunction.Sinh => Complex.Sinh(x),
            MathFunction.Cosh => Complex.Cosh(x),
            MathFunction.Tanh => Complex.Tanh(x),
            MathFunction.Ln => Complex.Log(x),
            MathFunction.Log10 => Complex.Log10(x),
            MathFunction.Exp => Complex.Exp(x),
            MathFunction.Abs => Complex.Abs(x),
            _ => Factorial(x),
        };
    }

    public override void CollectVariables(ISet<string> into) => Argument.CollectVariables(into);

    private static Complex Factorial(Complex x)
    {
        if (x.Imaginary != 0 || x.Real < 0 || x.Real > 170 || Math.Round(x.Real) != x.Real) return double.NaN;
        double product = 1;
        for (int k = 2; k <= (int)x.Real; k++) product *= k;
        return product;
    }
}
