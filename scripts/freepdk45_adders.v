// yosys techmap: full adders found by `extract_fa -fa` onto the FA_X1 cell of
// freepdk45_area.lib, and onto HA_X1 where the carry input is a constant zero.
(* techmap_celltype = "$fa" *)
module _facet_fa (A, B, C, X, Y);
  parameter WIDTH = 1;
  parameter _TECHMAP_CONSTMSK_C_ = 0;
  parameter _TECHMAP_CONSTVAL_C_ = 0;
  input [WIDTH-1:0] A, B, C;
  output [WIDTH-1:0] X, Y;
  genvar i;
  generate for (i = 0; i < WIDTH; i = i + 1) begin : bit
    if (_TECHMAP_CONSTMSK_C_[i] && !_TECHMAP_CONSTVAL_C_[i])
      HA_X1 ha (.A(A[i]), .B(B[i]), .CO(X[i]), .S(Y[i]));
    else
      FA_X1 fa (.A(A[i]), .B(B[i]), .CI(C[i]), .CO(X[i]), .S(Y[i]));
  end endgenerate
endmodule
