"""cocotb regression of the generated Verilog (encoder, decoder, loopback, reset).

``tb/test_rtl.py`` is the pytest entry point, ``tb/cocotb_facet.py`` the cocotb test module it
runs in the simulator, ``tb/summary.py`` the regression summary (``python -m tb.summary``).
"""
